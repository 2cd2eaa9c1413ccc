"""The db stage alone from a backlog (db_pipe_probe.py's drain) with the collector's time
counted, and the db-worker's heap settled or not before the drain (docs/benchmarks.md, "The
db-worker's CPU a score"). FREEZE=1: `gc.freeze()` once set up; YOUNG=N: a young pass every
N net allocations. With the stack up, under /work/stack.lock:
    [FREEZE=1] [YOUNG=20000] .venv/bin/python docs/bench/db_heap_probe.py SCORES BATCH DEPTH
"""

import asyncio
import gc
import os
import sys
import time

from db_pipe_probe import drain

from podium.settings import Settings

spent = {0: [0, 0.0], 1: [0, 0.0], 2: [0, 0.0]}
began: list[float] = [0.0]


def count(phase: str, info: dict) -> None:
    if phase == "start":
        began[0] = time.perf_counter()
    else:
        spent[info["generation"]][0] += 1
        spent[info["generation"]][1] += time.perf_counter() - began[0]


def settle() -> None:
    if os.environ.get("FREEZE"):
        gc.freeze()
    if os.environ.get("YOUNG"):
        gc.set_threshold(int(os.environ["YOUNG"]), *gc.get_threshold()[1:])
    gc.callbacks.append(count)


async def main() -> None:
    scores, batch, depth = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    seconds, cpu = await drain(Settings.from_env(profile="distributed"), scores, batch, depth, settle)
    gc.callbacks.remove(count)
    collector = sum(s for _, s in spent.values())
    print(
        f"load {os.getloadavg()[0]:.1f}: {scores / seconds:7.0f}/s, worker {1e6 * cpu / scores:5.0f} µs a score, "
        f"of which the collector {1e6 * collector / scores:4.1f} (passes by generation "
        f"{ {g: n for g, (n, _) in spent.items()} })"
    )


asyncio.run(main())
