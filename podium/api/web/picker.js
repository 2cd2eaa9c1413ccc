// The board picker: lists the boards (GET /v1/boards) and opens /boards/{board}.
"use strict";

function boardUrl(board, user) {
  const query = user ? `?user=${encodeURIComponent(user)}` : "";
  return `/boards/${encodeURIComponent(board)}${query}`;
}

async function loadBoards() {
  const status = document.getElementById("status");
  try {
    const answer = await fetch("/v1/boards");
    if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
    const { boards } = await answer.json();
    document.getElementById("boards").replaceChildren(...boards.map((name) => {
      const link = document.createElement("a");
      link.href = boardUrl(name, "");
      link.textContent = name;
      const item = document.createElement("li");
      item.append(link);
      return item;
    }));
    status.textContent = boards.length ? `${boards.length} board(s)` : "No boards yet: create one with PUT /v1/boards/{board}.";
    const pick = document.getElementById("follow-board");
    if (boards.length && !pick.value) pick.value = boards.includes("demo") ? "demo" : boards[0];
  } catch (err) {
    status.textContent = `Could not list the boards: ${err.message}`;
  }
}

document.getElementById("follow").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  location.href = boardUrl(form.get("board").trim(), form.get("user").trim());
});

loadBoards();
