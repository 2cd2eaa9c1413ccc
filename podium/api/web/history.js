// The user's rank history on the board page: GET …/users/{user}/history (README, "Rank
// history") drawn as a small inline SVG line, oldest on the left, rank 1 at the top.
// board.js calls podiumHistory.refresh() after each frame that changed something; at most
// one request runs at a time, and one more follows if a refresh was asked meanwhile.
"use strict";

const podiumHistory = (() => {
  const WIDTH = 300;
  const HEIGHT = 90;
  const PAD = 6;
  const SVG = "http://www.w3.org/2000/svg";
  const board = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
  const user = new URLSearchParams(location.search).get("user") || "";
  let busy = false;
  let again = false;

  function svg(tag, attributes) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
    return node;
  }

  // Points newest first, as the API answers them; the chart runs oldest to newest.
  function draw(points) {
    const chart = document.getElementById("history-chart");
    const caption = document.getElementById("history-caption");
    const oldestFirst = [...points].reverse();
    chart.dataset.points = String(oldestFirst.length);
    if (!oldestFirst.length) {
      chart.replaceChildren();
      caption.textContent = user ? "no history yet" : "no user chosen";
      return;
    }
    const worst = Math.max(...oldestFirst.map((p) => p.rank));
    const x = (i) => PAD + (oldestFirst.length === 1 ? (WIDTH - 2 * PAD) / 2 : (i * (WIDTH - 2 * PAD)) / (oldestFirst.length - 1));
    const y = (rank) => PAD + (worst === 1 ? 0 : ((rank - 1) * (HEIGHT - 2 * PAD)) / (worst - 1));
    const line = oldestFirst.map((p, i) => `${x(i).toFixed(1)},${y(p.rank).toFixed(1)}`).join(" ");
    const dots = oldestFirst.map((p, i) => {
      const dot = svg("circle", { cx: x(i).toFixed(1), cy: y(p.rank).toFixed(1), r: 2.5, class: p.final ? "final" : "" });
      const title = svg("title", {});
      title.textContent = `${p.at}: #${p.rank}, ${p.score}${p.final ? " (final)" : ""}`;
      dot.append(title);
      return dot;
    });
    chart.replaceChildren(svg("polyline", { points: line }), ...dots);
    const newest = oldestFirst[oldestFirst.length - 1];
    caption.textContent = `${oldestFirst.length} points; now #${newest.rank}, best #${Math.min(...oldestFirst.map((p) => p.rank))}`;
  }

  async function refresh() {
    if (!user) return draw([]);
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      const path = `/v1/boards/${encodeURIComponent(board)}/users/${encodeURIComponent(user)}/history?limit=100`;
      const answer = await fetch(path);
      if (answer.ok) draw((await answer.json()).points);
    } catch {
      // The stream's state badge tells the user the server is unreachable.
    } finally {
      busy = false;
      if (again) {
        again = false;
        refresh();
      }
    }
  }

  return { refresh };
})();
