"""Submit-to-screen latency with many live subscribers: start `podium serve`, open N
WebSockets on one board, submit scores one at a time and time, for every subscriber, from
the submission to the frame carrying its change. Not a test (it measures):

    python -m tests.e2e.live_latency --subscribers 1000 --submissions 40
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

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


async def measure(base_url: str, subscribers: int, submissions: int, gap_s: float) -> dict[str, float]:
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
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    latencies_ms = sorted((t - sent[u]) * 1000 for u, times in seen.items() for t in times)
    return {
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = PodiumProcess(Path(tmp) / "data").start()
        try:
            result = asyncio.run(measure(server.base_url, args.subscribers, args.submissions, args.gap_s))
        finally:
            server.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
