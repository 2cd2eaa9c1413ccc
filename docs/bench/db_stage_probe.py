"""The db-worker's apply() against the stack's Cassandra, no Kafka: CPU per score of
Cassandra, Debezium (read until 4 s after) and the worker itself, and its scores/s
(docs/benchmarks.md, "The db stage's writes made cheaper": the A/B driver of that section).

With the stack up (under /work/stack.lock on a shared machine), from a checkout:
    .venv/bin/python docs/bench/db_stage_probe.py WORKLOAD SCORES [BATCH]
WORKLOAD: new (every score a new user), returning (2,000 users who scored once, not
measured, then SCORES more), keyed (new users, each score with a fresh idempotency key).
One DbWorker, batches of BATCH (1,000) records made here, on a board of its own, deleted after.
"""
import asyncio, os, sys, time, uuid, resource
from podium.settings import Settings
from podium.bootstrap import connect_store
from podium.domain.boards import Board
from podium.domain.totals import LogPosition, ScoreSubmitted
from podium.log.base import LogRecord
from podium.pipeline.codec import encode_event, log_key
from podium.pipeline.db_worker import DbWorker, DbWorkerSettings
from podium.usecases.board_settings import Boards

TICK = os.sysconf("SC_CLK_TCK")

def pid_of(word):
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                cmd = open(f"/proc/{p}/cmdline", "rb").read().decode(errors="replace")
            except OSError:
                continue
            if "java" in cmd and word in cmd.lower():
                return int(p)

def cpu(pid):
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as f:
        fl = f.read().rsplit(")", 1)[1].split()
    return (int(fl[11]) + int(fl[12])) / TICK

def me():
    r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime + r.ru_stime

async def main():
    workload, scores = sys.argv[1], int(sys.argv[2]); batch = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    cass, dbz = pid_of("cassandradaemon"), pid_of("debezium")
    store = connect_store(Settings.from_env(profile="distributed"))
    board = f"bench-probe-{uuid.uuid4().hex[:6]}"
    await store.create_board(Board(board))
    w = DbWorker(None, store, Boards(store), DbWorkerSettings(batch_size=batch))
    users = scores if workload != "returning" else 2000
    def records(start, n, rnd):
        return [LogRecord(LogPosition(0, start + i), log_key(board, f"player-{(start+i) % users:07d}"),
                          encode_event(ScoreSubmitted(board, f"player-{(start+i) % users:07d}", 1,
                                                      f"key-{start+i}" if workload == "keyed" else None, time.time_ns() // 1000)))
                for i in range(n)]
    try:
        if workload == "returning":  # every user once first, not measured
            for s in range(0, users, batch):
                await w.apply(records(s, min(batch, users - s), 0))
        off = users if workload == "returning" else 0
        c0, d0, m0, t0 = cpu(cass), cpu(dbz), me(), time.perf_counter()
        for s in range(0, scores, batch):
            await w.apply(records(off + s, batch, 1))
        c1, m1, t1 = cpu(cass), me(), time.perf_counter()
        await asyncio.sleep(4)
        d1 = cpu(dbz)
    finally:
        await store.delete_board([board])
        await store.close()
    print(f"{workload:9s} batch {batch}: cassandra {1e6*(c1-c0)/scores:6.1f}  debezium {1e6*(d1-d0)/scores:6.1f}  worker {1e6*(m1-m0)/scores:6.1f} us/score  {scores/(t1-t0):6.0f} scores/s")

asyncio.run(main())
