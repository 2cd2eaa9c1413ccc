"""The db stage alone from a backlog (as db_pipe_probe.py) with the collector's time counted,
and the db-worker's heap settled or not before the drain (docs/benchmarks.md, "The
db-worker's CPU a score"). FREEZE=1: `gc.freeze()` once set up; YOUNG=N: a young pass every
N net allocations. With the stack up, under /work/stack.lock:
    [FREEZE=1] [YOUNG=20000] .venv/bin/python docs/bench/db_heap_probe.py SCORES BATCH DEPTH
"""

import asyncio
import gc
import os
import resource
import sys
import time
import uuid

from podium.bootstrap import connect_store
from podium.domain.boards import Board
from podium.domain.totals import ScoreSubmitted
from podium.log.kafka import KafkaLog, KafkaLogConsumer, ensure_topics
from podium.pipeline.codec import encode_event, log_key
from podium.pipeline.db_worker import DbWorker, DbWorkerSettings
from podium.settings import Settings
from podium.usecases.board_settings import Boards

spent = {0: [0, 0.0], 1: [0, 0.0], 2: [0, 0.0]}
began: list[float] = [0.0]


def count(phase: str, info: dict) -> None:
    if phase == "start":
        began[0] = time.perf_counter()
    else:
        spent[info["generation"]][0] += 1
        spent[info["generation"]][1] += time.perf_counter() - began[0]


def me() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def main() -> None:
    scores, batch, depth = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    settings = Settings.from_env(profile="distributed")
    tag = uuid.uuid4().hex[:8]
    topic, board = f"probe-ingest-{tag}", f"probe-{tag}"
    ensure_topics(settings.kafka_bootstrap, {topic: 6})
    store = await asyncio.to_thread(connect_store, settings)
    await store.create_board(Board(board))
    consumer = KafkaLogConsumer(settings.kafka_bootstrap, [topic], f"probe-{tag}")
    worker = DbWorker(consumer, store, Boards(store), DbWorkerSettings(batch_size=batch, depth=depth))
    try:
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
        if os.environ.get("FREEZE"):
            gc.freeze()
        if os.environ.get("YOUNG"):
            gc.set_threshold(int(os.environ["YOUNG"]), *gc.get_threshold()[1:])
        gc.callbacks.append(count)
        cpu0, started = me(), time.perf_counter()
        applied = 0
        while applied < scores:
            applied += (await worker.step()).records
        await worker._land_all()
        seconds, cpu = time.perf_counter() - started, me() - cpu0
        gc.callbacks.remove(count)
        collector = sum(s for _, s in spent.values())
        print(
            f"load {os.getloadavg()[0]:.1f}: {scores / seconds:7.0f}/s, worker {1e6 * cpu / scores:5.0f} µs a score, "
            f"of which the collector {1e6 * collector / scores:4.1f} (passes by generation "
            f"{ {g: n for g, (n, _) in spent.items()} })"
        )
    finally:
        await consumer.close()
        await store.delete_board([board])
        await store.close()


asyncio.run(main())
