"""A rebuild of a big board against a real `podium serve`, with reads timed during it.

The e2e test runs it small; the measured run in docs/operations.md runs it with a
million users:  python -m tests.e2e.rebuild_run --users 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.store.sqlite import SqliteStore
from tests.e2e.server import PodiumProcess

BOARD = "arena"


def score_of(i: int) -> int:
    return (i * 7919) % 1_000_003


async def seed(data: Path, users: int) -> None:
    """Write the board's totals straight into the store, the source of truth (much
    faster than a million submissions); `podium serve` fills its index from it at start."""
    store = SqliteStore(data / "store.db", synchronous="off")
    await store.open()
    await store.create_board(Board(BOARD))
    for first in range(0, users, 50_000):
        batch = [
            Total(BOARD, f"u{i:07}", score_of(i), 1, i, LogPosition(0, i))
            for i in range(first, min(users, first + 50_000))
        ]
        await store.write_totals(batch, [])
    await store.close()


@dataclass
class Reads:
    latencies_ms: list[float] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


def read_while(base_url: str, users: int, expected_rank: dict[str, int], stop: threading.Event, reads: Reads) -> None:
    """A player's rank and the top of the board, again and again, each checked."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        i = 0
        while not stop.is_set():
            user = f"u{(i * 104729) % users:07}"
            started = time.perf_counter()
            answer = client.get(f"/v1/boards/{BOARD}/users/{user}")
            reads.latencies_ms.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 200 or (user in expected_rank and answer.json()["rank"] != expected_rank[user]):
                reads.wrong.append(f"{user}: {answer.status_code} {answer.text}")
            started = time.perf_counter()
            top = client.get(f"/v1/boards/{BOARD}/top", params={"limit": 10})
            reads.latencies_ms.append((time.perf_counter() - started) * 1000)
            if top.status_code != 200 or top.json()["users"] != users:
                reads.wrong.append(f"top: {top.status_code} {top.text[:200]}")
            i += 1


@dataclass
class RebuildRun:
    seconds: float
    cli_output: str
    cli_code: int
    reads: Reads
    reads_before: Reads


def run(server: PodiumProcess, users: int, *, board: str = BOARD) -> RebuildRun:
    """Rebuild the board with the CLI while a reader checks answers; time both."""
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        sample = [f"u{(i * 104729) % users:07}" for i in range(50)]
        expected = {u: client.get(f"/v1/boards/{board}/users/{u}").json()["rank"] for u in sample}
    baseline, stop = Reads(), threading.Event()
    reader = threading.Thread(target=read_while, args=(server.base_url, users, expected, stop, baseline))
    reader.start()
    time.sleep(2)
    stop.set()
    reader.join()
    reads, stop = Reads(), threading.Event()
    reader = threading.Thread(target=read_while, args=(server.base_url, users, expected, stop, reads))
    reader.start()
    started = time.monotonic()
    cli = subprocess.run(
        [sys.executable, "-m", "podium", "rebuild", "--board", board, "--url", server.base_url],
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.monotonic() - started
    stop.set()
    reader.join()
    return RebuildRun(seconds, cli.stdout + cli.stderr, cli.returncode, reads, baseline)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=Path("/tmp/podium-rebuild-run"))
    args = parser.parse_args()
    if args.data.exists():
        print(f"{args.data} exists; remove it or pass another --data", file=sys.stderr)
        return 2
    started = time.monotonic()
    (args.data / "data").mkdir(parents=True)
    asyncio.run(seed(args.data / "data", args.users))
    print(f"seeded {args.users:,} totals in {time.monotonic() - started:.1f} s")
    server = PodiumProcess(args.data / "data", env={"PODIUM_SQLITE_SYNC": "normal"}).start(timeout_s=300)
    try:
        result = run(server, args.users)
    finally:
        server.stop()
    print(result.cli_output)
    for name, r in (("before the rebuild", result.reads_before), ("during the rebuild", result.reads)):
        print(
            f"reads {name}: {len(r.latencies_ms)}, wrong {len(r.wrong)}, "
            f"p50 {r.percentile(50):.1f} ms, p99 {r.percentile(99):.1f} ms, max {max(r.latencies_ms):.1f} ms, "
            f"mean {statistics.mean(r.latencies_ms):.1f} ms"
        )
    print(f"rebuild wall time (CLI start to end): {result.seconds:.1f} s")
    return 0 if result.cli_code == 0 and not result.reads.wrong else 1


if __name__ == "__main__":
    sys.exit(main())
