"""The db-worker stage alone, from a backlog, against the raw Cassandra loop, in one process
(docs/benchmarks.md, "The db-worker's pipeline of batches": the A/B driver of that section).

N new users' scores are put in a fresh topic of 6 partitions first; then one DbWorker (the
real KafkaLogConsumer and CassandraStore, a group of its own) drains it, timed from its
start until it has committed every record; then `raw_cassandra.rows_per_s` writes N rows,
the baseline of `db_stage_vs_raw_cassandra`. Each DEPTH given is one such drain, in turn,
ROUNDS times (the raw loop after each round), so that the machine's drift falls on all.

With the stack up (under /work/stack.lock on a shared machine), from a checkout:
    .venv/bin/python docs/bench/db_pipe_probe.py SCORES ROUNDS BATCH DEPTH [DEPTH ...]
"""

import asyncio
import os
import resource
import sys
import time
import uuid
from collections.abc import Callable

from podium.bootstrap import connect_store
from podium.domain.boards import Board
from podium.domain.totals import ScoreSubmitted
from podium.log.kafka import KafkaLog, KafkaLogConsumer, ensure_topics
from podium.pipeline.codec import encode_event, log_key
from podium.pipeline.db_worker import DbWorker, DbWorkerSettings
from podium.settings import Settings
from podium.tools.bench import raw_cassandra
from podium.usecases.board_settings import Boards


def me() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def drain(
    settings: Settings, scores: int, batch: int, depth: int, settle: Callable[[], None] | None = None
) -> tuple[float, float]:
    """Seconds and worker CPU seconds for one DbWorker of `depth` to drain `scores` new users;
    `settle` runs once the backlog is made, before the clock starts (db_heap_probe.py)."""
    tag = uuid.uuid4().hex[:8]
    topic, board = f"probe-ingest-{tag}", f"probe-{tag}"
    ensure_topics(settings.kafka_bootstrap, {topic: 6})
    store = await asyncio.to_thread(connect_store, settings)
    await store.create_board(Board(board))
    consumer = KafkaLogConsumer(settings.kafka_bootstrap, [topic], f"probe-{tag}")
    worker = DbWorker(consumer, store, Boards(store), DbWorkerSettings(batch_size=batch, depth=depth))
    try:
        # The group is joined, on the empty topic, before the backlog is made and the clock starts.
        while consumer.tenure() < 2:
            await consumer.poll(1, 0.2)
        log = KafkaLog(settings.kafka_bootstrap, topic)
        records = [
            (log_key(board, f"p{i:07d}"), encode_event(ScoreSubmitted(board, f"p{i:07d}", i % 1000, None, 1)))
            for i in range(scores)
        ]
        for i in range(0, scores, 1000):
            await log.append(records[i : i + 1000])
        await log.close()
        if settle is not None:
            settle()
        cpu0, started = me(), time.perf_counter()
        applied = 0
        while applied < scores:
            applied += (await worker.step()).records
        await worker._land_all()  # the last batches landed and committed
        return time.perf_counter() - started, me() - cpu0
    finally:
        await consumer.close()
        await store.delete_board([board])
        await store.close()


async def main() -> None:
    scores, rounds, batch = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    depths = [int(d) for d in sys.argv[4:]]
    settings = Settings.from_env(profile="distributed")
    for r in range(rounds):
        line = []
        for depth in depths:
            seconds, cpu = await drain(settings, scores, batch, depth)
            line.append(f"depth {depth}: {scores / seconds:7.0f}/s (worker {1e6 * cpu / scores:5.0f} µs a score)")
        raw = (await asyncio.to_thread(raw_cassandra.rows_per_s, settings, scores))["per_s"]
        print(f"round {r + 1} load {os.getloadavg()[0]:.1f}: " + "; ".join(line) + f"; raw {raw:7.0f} rows/s")


if __name__ == "__main__":
    asyncio.run(main())
