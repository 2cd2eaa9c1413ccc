"""Cassandra's and the client's CPU a row for the db-worker's store calls, at one batch size
(docs/benchmarks.md, "The db-worker's CPU a score"): ROUNDS batches of N new users each
read (absent), written (first totals), read again (present). Run it from two checkouts in
turn to compare their stores. With the stack up, under /work/stack.lock:
    .venv/bin/python docs/bench/db_reads_probe.py CASSANDRA_PID ROUNDS N
"""

import asyncio
import os
import resource
import sys
import time
import uuid

from podium.bootstrap import connect_store
from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.settings import Settings

TICK = os.sysconf("SC_CLK_TCK")
CASS, ROUNDS, N = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])


def cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def me() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def main() -> None:
    store = connect_store(Settings.from_env(profile="distributed"))
    board = f"probe-{uuid.uuid4().hex[:6]}"
    await store.create_board(Board(board))

    async def phase(name, make):
        c0, m0, t0 = cpu(CASS), me(), time.perf_counter()
        for r in range(ROUNDS):
            await make(r)
        spent = (cpu(CASS) - c0, me() - m0, time.perf_counter() - t0)
        per_row = tuple(round(x / (ROUNDS * N) * 1e6, 1) for x in spent)
        print(f"N={N} {name}: Cassandra / client / wall µs a row", per_row)

    def users(r):
        return [(board, f"p{r * N + i}") for i in range(N)]

    def totals(r):
        return [Total(board, f"p{r * N + i}", i, 1, 1, LogPosition(0, r * N + i), False, 1) for i in range(N)]

    try:
        await phase("load absent", lambda r: store.load_totals(users(r)))
        await phase("write", lambda r: store.write_totals(totals(r), []))
        await phase("load present", lambda r: store.load_totals(users(r)))
    finally:
        await store.delete_board([board])
        await store.close()


asyncio.run(main())
