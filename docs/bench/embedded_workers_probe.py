"""The embedded workers' CPU a score, without the api (issue 19).

Appends N single scores to a fresh data directory's log (the bench's users, the bench's
board settings) before anything consumes them, then opens the embedded profile as `podium
serve` does and times, in CPU seconds of the whole process (every thread), how long the
db-worker and the rank-worker take to bring all of them into the rank index. The api's
own path is not run: what is measured is what `podium serve` spends a score beside it.
Prints one JSON line a round. Run it from a checkout with that checkout's python, main
and a branch back to back:

    .venv/bin/python docs/bench/embedded_workers_probe.py --scores 20000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import podium
from podium.bootstrap import open_api
from podium.domain.boards import Board
from podium.domain.totals import LogPosition
from podium.log.sqlite import SqliteLog
from podium.pipeline.codec import encode_score, log_key
from podium.settings import Settings
from podium.store.sqlite import SqliteStore
from podium.tools.bench.ingest import USERS

BOARD = "probe"
GROUP = 64  # records a group commit, about what 64-128 connections give


async def fill(data: Path, scores: int) -> None:
    store = SqliteStore(data / "store.db")
    await store.open()
    await store.create_board(Board(BOARD))
    await store.close()
    log = SqliteLog(data / "log.db")
    await log.open()
    at_us = time.time_ns() // 1000
    for start in range(0, scores, GROUP):
        await log.append(
            [
                (log_key(BOARD, f"u{i % USERS}"), encode_score(BOARD, f"u{i % USERS}", i % 1000, at_us + i))
                for i in range(start, min(scores, start + GROUP))
            ]
        )
    await log.close()


async def drain(data: Path, scores: int) -> dict[str, float]:
    settings = Settings.from_env(data=data)
    async with open_api(settings) as services:
        board = await services.boards.get(BOARD)
        last = f"u{(scores - 1) % USERS}"  # its record is the log's last: seq `scores`
        cpu0, wall0 = time.process_time(), time.monotonic()
        if not await services.visibility.wait(board, last, LogPosition(0, scores), 300.0):
            raise RuntimeError("the rank index did not reach the log's last record in 300 s")
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    return {"cpu_us_per_score": round(1e6 * cpu / scores, 1), "wall_s": round(wall, 2)}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scores", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--label", default=str(Path(podium.__file__).parent.parent))
    args = parser.parse_args()
    for r in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="workers-probe-") as tmp:
            await fill(Path(tmp), args.scores)
            row = {"label": args.label, "round": r, "scores": args.scores, "at": time.strftime("%H:%M:%S")}
            row.update(await drain(Path(tmp), args.scores))
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
