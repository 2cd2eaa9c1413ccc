"""`e2e_p50_ms` / `e2e_p99_ms`: from sending a submission to the answer that it is
visible to reads (`wait=true`), through the whole pipeline of the profile, at a stated
offered load (an open loop: submissions leave at the rate whatever the answers do)."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from typing import Any

import httpx

from podium.tools.bench import Figure, percentile
from podium.tools.bench.progress import Progress


async def latencies(
    base_url: str, *, samples: int, rate_per_s: float, progress: Progress | None
) -> tuple[list[float], str]:
    """Milliseconds to visible of each submission answered 200, and the board used."""
    board = f"bench-e2e-{uuid.uuid4().hex[:8]}"
    found: list[float] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        answer = await client.put(f"/v1/boards/{board}", json={})
        answer.raise_for_status()
        await warm_up(client, board)

        async def one(i: int) -> None:
            started = time.perf_counter()
            answer = await client.post(
                f"/v1/boards/{board}/scores?wait=true", json={"user_id": f"u{i % 500}", "score": i % 100}
            )
            if answer.status_code == 200:
                found.append((time.perf_counter() - started) * 1000)

        tasks = []
        started = time.perf_counter()
        for i in range(samples):
            tasks.append(asyncio.create_task(one(i)))
            if progress is not None and i % 10 == 0:
                progress.update(i / samples, f"{i}/{samples} sent")
            # On schedule, not after a fixed pause: a late wake-up does not lower the rate.
            await asyncio.sleep(max(0.0, started + (i + 1) / rate_per_s - time.perf_counter()))
        await asyncio.gather(*tasks)
    return found, board


async def warm_up(client: httpx.AsyncClient, board: str, *, timeout_s: float = 60.0) -> None:
    """Until a submission is visible within a second: a pipeline just started is still
    joining its consumer groups (Kafka holds a new group's first assignment for 3 s)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        started = time.perf_counter()
        answer = await client.post(f"/v1/boards/{board}/scores?wait=true", json={"user_id": "warm-up", "score": 1})
        if answer.status_code == 200 and time.perf_counter() - started < 1.0:
            return
    raise RuntimeError(f"no submission became visible within a second in {timeout_s:.0f} s")


def figures(found: list[float], *, samples: int, rate_per_s: float, path: str) -> list[Figure]:
    if not found:
        raise RuntimeError("no submission became visible")
    detail: dict[str, Any] = {
        "p50_ms": round(percentile(found, 50), 2),
        "p99_ms": round(percentile(found, 99), 2),
        "max_ms": round(max(found), 2),
        "mean_ms": round(statistics.fmean(found), 2),
        "samples": len(found),
        "sent": samples,
        "offered_per_s": rate_per_s,
        "path": path,
    }
    return [
        Figure("e2e_p50_ms", detail["p50_ms"], "ms", detail=detail),
        Figure("e2e_p99_ms", detail["p99_ms"], "ms", detail=detail),
    ]
