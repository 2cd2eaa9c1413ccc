"""Cassandra CPU per row for each kind of request the db-worker makes, through the store's
own calls (docs/benchmarks.md, "The db stage's writes made cheaper"): ROUNDS rounds of 1,000
rows each. With the stack up, under /work/stack.lock:
    .venv/bin/python docs/bench/db_requests_probe.py CASSANDRA_PID [ROUNDS]
"""
import asyncio, os, sys, time, uuid
from podium.settings import Settings
from podium.bootstrap import connect_store
from podium.domain.totals import LogPosition, Total
from podium.store.base import AppliedKey

TICK = os.sysconf("SC_CLK_TCK")
CASS = int(sys.argv[1]); ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 10; N = 1000

def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fl = f.read().rsplit(")", 1)[1].split()
    return (int(fl[11]) + int(fl[12])) / TICK

def totals(board, base, version):
    return [Total(board, f"p{base+i}", 1, version, 1, LogPosition(0, base + i), False, 1) for i in range(N)]

async def main():
    s = Settings.from_env(profile="distributed")
    store = connect_store(s)
    board = f"probe-{uuid.uuid4().hex[:6]}"
    res = {}
    async def phase(name, make):
        c0, t0 = cpu(CASS), time.perf_counter()
        for r in range(ROUNDS):
            await make(r)
        c1, t1 = cpu(CASS), time.perf_counter()
        res[name] = ((c1 - c0) / (ROUNDS * N) * 1e6, (t1 - t0) / (ROUNDS * N) * 1e6)
    try:
        await phase("load_totals (absent users)", lambda r: store.load_totals([(board, f"p{r*N+i}") for i in range(N)]))
        await phase("write totals v2 (no user_boards)", lambda r: store.write_totals(totals(board, r * N, 2), []))
        await phase("load_totals (present users)", lambda r: store.load_totals([(board, f"p{r*N+i}") for i in range(N)]))
        await phase("user_boards rows", lambda r: store._write_spread(
            "INSERT INTO {ks}.user_boards (user_id, board) VALUES (?, ?)",
            [((f"p{r*N+i}",), (f"p{r*N+i}", board)) for i in range(N)]))
        await phase("applied_keys reads (absent)", lambda r: store.applied_keys([(board, f"k{r*N+i}") for i in range(N)], 0))
        await phase("applied_keys writes", lambda r: store.write_totals([], [AppliedKey(board, f"k{r*N+i}", 1, LogPosition(0, i)) for i in range(N)]))
    finally:
        await store.delete_board([board])
        await store.close()
    for k, (c, w) in res.items():
        print(f"{k:40s} cassandra {c:7.1f} us/row   wall {w:7.1f} us/row")

asyncio.run(main())
