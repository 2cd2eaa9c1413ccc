"""`podium bench`: measured, reproducible figures (see docs/benchmarks.md).

This first part measures end-to-end latency: from sending a submission to its
change being visible to reads (`wait=true`), through the whole pipeline of the
chosen profile, at a stated offered load.
"""

from __future__ import annotations

import asyncio
import platform
import socket
import statistics
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from podium.api.app import create_app
from podium.api.serving import start, uvicorn_server
from podium.settings import Settings


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def e2e_latency(base_url: str, *, samples: int, rate_per_s: float, progress: bool) -> Figure:
    """Send `samples` submissions at `rate_per_s`, each with wait=true; time each to visible."""
    board = f"bench-{uuid.uuid4().hex[:8]}"
    latencies_ms: list[float] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        await client.put(f"/v1/boards/{board}", json={})

        async def one(i: int) -> None:
            started = time.perf_counter()
            answer = await client.post(
                f"/v1/boards/{board}/scores?wait=true", json={"user_id": f"u{i % 500}", "score": i % 100}
            )
            if answer.status_code == 200:
                latencies_ms.append((time.perf_counter() - started) * 1000)

        tasks = []
        for i in range(samples):
            tasks.append(asyncio.create_task(one(i)))
            if progress and (i + 1) % max(1, samples // 20) == 0:
                print(f"\r  e2e latency: {i + 1}/{samples} sent", end="", flush=True)
            await asyncio.sleep(1 / rate_per_s)
        await asyncio.gather(*tasks)
    if progress:
        print()
    return Figure(
        "e2e_p50_ms",
        round(percentile(latencies_ms, 50), 2),
        "ms",
        detail={
            "p99_ms": round(percentile(latencies_ms, 99), 2),
            "max_ms": round(max(latencies_ms), 2),
            "mean_ms": round(statistics.fmean(latencies_ms), 2),
            "samples": len(latencies_ms),
            "offered_per_s": rate_per_s,
        },
    )


async def run(settings: Settings, *, quick: bool, out: Path, progress: bool = True) -> list[Figure]:
    port = free_port()
    server = uvicorn_server(create_app(settings), "127.0.0.1", port)
    serving = await start(server)
    try:
        latency = await e2e_latency(
            f"http://127.0.0.1:{port}", samples=200 if quick else 2000, rate_per_s=50, progress=progress
        )
    finally:
        server.should_exit = True
        await serving
    p99 = Figure("e2e_p99_ms", latency.detail["p99_ms"], "ms", detail=latency.detail)
    figures = [latency, p99]
    write(out, settings, figures)
    return figures


def write(out: Path, settings: Settings, figures: list[Figure]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    machine = {"cpus": _cpus(), "python": platform.python_version(), "platform": platform.platform()}
    (out / "bench.json").write_bytes(
        orjson.dumps(
            {"profile": settings.profile, "machine": machine, "figures": [asdict(f) for f in figures]},
            option=orjson.OPT_INDENT_2,
        )
    )
    lines = [
        f"# podium bench ({settings.profile})",
        "",
        "| name | value | unit | baseline | ratio | detail |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {f.name} | {f.value} | {f.unit} | {'' if f.baseline is None else f.baseline} | "
        f"{'' if f.ratio is None else f.ratio} | {orjson.dumps(f.detail).decode()} |"
        for f in figures
    ]
    (out / "bench.md").write_text("\n".join(lines) + "\n")


def _cpus() -> int:
    import os

    return os.cpu_count() or 0
