// The live board page: /boards/{board}?user=…&top=…
// Follows the board's Server-Sent Events stream (README, "Live updates"): a snapshot, then
// deltas whose `top`, `me` and `friends` replace what is shown. EventSource reconnects and
// resumes by itself (Last-Event-ID); when it gives up, we open a new one resuming from the
// last seq we saw (`last_event_id`). The around window is not in the frames: it is read
// over HTTP after each frame that moved the user, at most one request at a time.
"use strict";

const AROUND_RADIUS = 5;
const MAX_EVENTS = 20;
const RECONNECT_MAX_MS = 10000;

const board = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
const params = new URLSearchParams(location.search);
const user = params.get("user") || "";
const topN = Math.min(100, Math.max(1, Number(params.get("top")) || 10));

const $ = (id) => document.getElementById(id);
const api = (path) => `/v1/boards/${encodeURIComponent(board)}${path}`;

let source = null;
let lastSeq = null;
let retryMs = 500;
let aroundBusy = false;
let aroundAgain = false;

function setState(state, text) {
  const badge = $("state");
  badge.dataset.state = state;
  badge.textContent = text || state;
}

function showError(message) {
  $("error").hidden = !message;
  $("error").textContent = message || "";
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text ?? "–";
  return td;
}

function fillTable(id, entries, columns) {
  const rows = (entries || []).map((entry) => {
    const tr = document.createElement("tr");
    tr.dataset.user = entry.user_id;
    if (entry.user_id === user) tr.classList.add("mine");
    // A player is shown by its display name when it has one (the row keeps its id).
    tr.append(...columns.map((column) => cell(column === "user_id" ? entry.display_name || entry.user_id : entry[column])));
    return tr;
  });
  document.querySelector(`#${id} tbody`).replaceChildren(...rows);
}

function showMe(me) {
  $("me-rank").textContent = me ? me.rank : "–";
  $("me-score").textContent = me ? me.score : "–";
  if (user) $("me-user").textContent = me ? user : `${user} (no score yet)`;
}

function describe(event) {
  switch (event.type) {
    case "friend_passed_you":
      return `${event.friend} passed you: they are #${event.friend_rank}, you are #${event.rank}`;
    case "entered_top":
      return `You entered the top ${event.top} at #${event.rank}`;
    case "personal_best":
      return `New personal best: ${event.score} (was ${event.previous ?? "none"})`;
    default:
      return event.type;
  }
}

function addEvents(events) {
  const list = $("events");
  for (const event of events || []) {
    const item = document.createElement("li");
    item.textContent = `${new Date().toLocaleTimeString()} ${describe(event)}`;
    list.prepend(item);
  }
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
}

async function refreshAround() {
  if (!user) return;
  if (aroundBusy) {
    aroundAgain = true;
    return;
  }
  aroundBusy = true;
  try {
    const answer = await fetch(api(`/users/${encodeURIComponent(user)}/around?radius=${AROUND_RADIUS}`));
    fillTable("around", answer.ok ? (await answer.json()).entries : [], ["rank", "user_id", "score"]);
  } catch {
    // The stream's state badge tells the user the server is unreachable.
  } finally {
    aroundBusy = false;
    if (aroundAgain) {
      aroundAgain = false;
      refreshAround();
    }
  }
}

function apply(frame) {
  if (frame.type === "delta" && lastSeq !== null && frame.changes?.length && frame.changes[0].seq !== lastSeq + 1) {
    connect(false); // a gap: the server never sends one, but a fresh snapshot mends it if it did
    return;
  }
  lastSeq = frame.seq;
  $("seq").textContent = frame.seq;
  if (frame.type === "snapshot" || "top" in frame) fillTable("top", frame.top, ["rank", "user_id", "score"]);
  if (frame.type === "snapshot" || "me" in frame) showMe(frame.me);
  if (frame.type === "snapshot" || "friends" in frame) {
    fillTable("friends", frame.friends, ["rank", "user_id", "score", "global_rank"]);
  }
  addEvents(frame.events);
  if (frame.type === "snapshot" || frame.changes?.length) {
    refreshAround();
    podiumHistory.refresh(); // history.js
  }
}

function connect(resume) {
  if (source) source.close();
  const query = new URLSearchParams({ top: String(topN) });
  if (user) query.set("user_id", user);
  if (resume && lastSeq !== null) query.set("last_event_id", String(lastSeq));
  if (!resume) lastSeq = null;
  const opened = new EventSource(api(`/events?${query}`));
  source = opened;
  const onFrame = (message) => {
    if (source !== opened) return;
    try {
      apply(JSON.parse(message.data));
    } catch (err) {
      showError(`Bad frame: ${err.message}`);
    }
  };
  opened.addEventListener("snapshot", onFrame);
  opened.addEventListener("delta", onFrame);
  opened.onopen = () => {
    retryMs = 500;
    setState("live");
    showError("");
  };
  opened.onerror = () => {
    if (source !== opened) return;
    if (opened.readyState === EventSource.CONNECTING) {
      setState("reconnecting"); // the browser retries and resumes with Last-Event-ID
      return;
    }
    opened.close();
    setState("reconnecting", `reconnecting in ${Math.round(retryMs / 1000)} s`);
    setTimeout(() => {
      if (source === opened) connect(true);
    }, retryMs);
    retryMs = Math.min(RECONNECT_MAX_MS, retryMs * 2);
  };
}

async function start() {
  $("board-name").textContent = board;
  document.title = `Podium — ${board}`;
  $("user").value = user;
  $("top-n").value = String(topN);
  $("top-count").textContent = topN;
  if (!user) $("me-user").textContent = "no user chosen: pick one above";
  try {
    const answer = await fetch(api(""));
    const body = await answer.json();
    if (!answer.ok) {
      setState("offline", "no such board");
      showError(body.error?.message || `HTTP ${answer.status}`);
      return;
    }
    $("board-info").textContent = `${body.order}, ${body.operator}, ${body.users} users`;
  } catch (err) {
    showError(`The server is unreachable: ${err.message}`); // the stream below keeps trying
  }
  connect(false);
}

$("options").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const query = new URLSearchParams();
  if (form.get("user").trim()) query.set("user", form.get("user").trim());
  query.set("top", form.get("top"));
  location.search = query.toString();
});

start();
