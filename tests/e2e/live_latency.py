"""Submit-to-screen latency with many live subscribers: start `podium serve`, open N
WebSockets on one board, submit scores one at a time and time, for every subscriber, from
the submission to the frame carrying its change. With `--browser K`, a headless Chromium
(Debian's, as in the browser test) also has the board page open for a watched player,
while the N subscribers stay connected, and K of that player's submissions are timed
from the POST to the moment the page's DOM shows the new score. Not a test (it measures):

    python -m tests.e2e.live_latency --subscribers 1000 --submissions 40 --browser 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

from tests.e2e.server import PodiumProcess


async def subscriber(url: str, seen: dict[str, list[float]], ready: asyncio.Event, opened: list[int]) -> None:
    async with websockets.connect(url, max_queue=None) as ws:
        json.loads(await ws.recv())  # the snapshot
        opened[0] += 1
        if opened[0] == opened[1]:
            ready.set()
        async for message in ws:
            now = time.perf_counter()
            for change in json.loads(message)["changes"]:
                seen.setdefault(change["user_id"], []).append(now)


# Resolves with the page's clock (ms since the epoch) when #me-score shows `want`; -1 on time-out.
WATCH_SCORE = """
const [want, timeoutMs, done] = arguments;
const el = document.querySelector('#me-score');
const shown = () => el.textContent === want;
if (shown()) { done(Date.now()); return; }
const observer = new MutationObserver(() => { if (shown()) { observer.disconnect(); done(Date.now()); } });
observer.observe(el, {childList: true, characterData: true, subtree: true});
setTimeout(() => { observer.disconnect(); done(-1); }, timeoutMs);
"""


def open_browser(url: str) -> Any:
    import shutil

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver") or "chromedriver"))
    driver.set_script_timeout(30)
    driver.get(url)
    return driver


async def on_screen(http: httpx.AsyncClient, driver: Any, user: str, total: int) -> float:
    """Submit 1 point for `user` and time, in ms, until the page shows its new total."""
    watching = asyncio.create_task(asyncio.to_thread(driver.execute_async_script, WATCH_SCORE, str(total), 10_000))
    await asyncio.sleep(0.1)  # the observer is in place
    sent_ms = time.time() * 1000
    answer = await http.post("/v1/boards/live-bench/scores", json={"user_id": user, "score": 1})
    assert answer.status_code == 202
    shown_ms = await watching
    assert shown_ms > 0, f"the page never showed {total}"
    return float(shown_ms - sent_ms)


async def measure(
    base_url: str, subscribers: int, submissions: int, gap_s: float, browser: int = 0
) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        await http.put("/v1/boards/live-bench")
        ws_url = base_url.replace("http", "ws") + "/v1/boards/live-bench/live?top=10"
        seen: dict[str, list[float]] = {}
        ready, opened = asyncio.Event(), [0, subscribers]
        tasks = [asyncio.create_task(subscriber(ws_url, seen, ready, opened)) for _ in range(subscribers)]
        await asyncio.wait_for(ready.wait(), 120)
        sent: dict[str, float] = {}
        for i in range(submissions):
            user = f"player{i}"
            sent[user] = time.perf_counter()
            answer = await http.post("/v1/boards/live-bench/scores", json={"user_id": user, "score": i})
            assert answer.status_code == 202
            await asyncio.sleep(gap_s)
        for _ in range(300):  # up to 30 s for the last frames
            if sum(len(v) for v in seen.values()) >= subscribers * submissions:
                break
            await asyncio.sleep(0.1)
        screen_ms: list[float] = []
        if browser:
            await http.post("/v1/boards/live-bench/scores?wait=true", json={"user_id": "watched", "score": 1})
            driver = await asyncio.to_thread(open_browser, f"{base_url}/boards/live-bench?user=watched&top=10")
            try:
                await asyncio.sleep(3)  # the page's snapshot
                for total in range(2, browser + 2):
                    screen_ms.append(await on_screen(http, driver, "watched", total))
                    await asyncio.sleep(gap_s)
            finally:
                await asyncio.to_thread(driver.quit)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    latencies_ms = sorted((t - sent[u]) * 1000 for u, times in seen.items() if u in sent for t in times)
    screen: dict[str, float] = {}
    if screen_ms:
        screen_ms.sort()
        screen = {
            "screen_submissions": len(screen_ms),
            "screen_p50_ms": round(statistics.median(screen_ms), 1),
            "screen_p95_ms": round(screen_ms[int(len(screen_ms) * 0.95)], 1),
            "screen_max_ms": round(screen_ms[-1], 1),
        }
    return {
        **screen,
        "subscribers": subscribers,
        "submissions": submissions,
        "frames_expected": subscribers * submissions,
        "frames_received": len(latencies_ms),
        "p50_ms": round(statistics.median(latencies_ms), 1),
        "p95_ms": round(latencies_ms[int(len(latencies_ms) * 0.95)], 1),
        "p99_ms": round(latencies_ms[int(len(latencies_ms) * 0.99)], 1),
        "max_ms": round(latencies_ms[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--gap-s", type=float, default=0.25)
    parser.add_argument("--browser", type=int, default=0, help="submissions timed to the screen of a real browser")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = PodiumProcess(Path(tmp) / "data").start()
        try:
            result = asyncio.run(measure(server.base_url, args.subscribers, args.submissions, args.gap_s, args.browser))
        finally:
            server.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
