"""`workers_2_vs_1` (distributed profile): pipeline throughput, ingest log → db-worker →
Cassandra → Debezium → change topic → rank-worker → Redis, with two db-worker and two
rank-worker processes ÷ with one of each.

For each count: start the workers (and one api process, for the board and its count),
warm them up until a first batch is visible (the groups have their partitions), then
append N scores for N new users straight to the stage's ingest topic and time until the
board ranks all N. The db-worker stage's own rate (until its group has committed the
whole topic) is reported beside it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

from podium.bench import Figure, measured
from podium.bench.isolation import BenchNames
from podium.bench.processes import podium_process, running
from podium.bench.progress import Progress
from podium.ingest import Ingest, Submission
from podium.log.kafka import KafkaLog
from podium.settings import Settings

DISTRIBUTED = {"PODIUM_PROFILE": "distributed"}


async def pipeline_rate(
    settings: Settings,
    bench_names: BenchNames,
    workers: int,
    *,
    events: int,
    log_dir: Path,
    timeout_s: float,
    progress: Progress | None,
    share: tuple[float, float],
) -> dict[str, float]:
    procs = [podium_process(["api"], log_dir=log_dir, env=DISTRIBUTED, names_flags=bench_names.flags())]
    for role in ("db-worker", "rank-worker"):
        procs += [
            podium_process([role], log_dir=log_dir, env=DISTRIBUTED, names_flags=bench_names.flags())
            for _ in range(workers)
        ]

    def say(part: float, note: str) -> None:
        if progress is not None:
            progress.update(share[0] + (share[1] - share[0]) * part, f"{workers} worker(s) of each: {note}")

    say(0.0, "starting")
    log = KafkaLog(settings.kafka_bootstrap, bench_names.ingest_topic)
    ingest = Ingest(log)
    async with running(procs), httpx.AsyncClient(base_url=f"http://127.0.0.1:{procs[0].port}", timeout=30) as api:
        warm = f"bench-warm-{uuid.uuid4().hex[:8]}"
        board = f"bench-workers-{uuid.uuid4().hex[:8]}"
        try:
            for name in (warm, board):
                (await api.put(f"/v1/boards/{name}", json={})).raise_for_status()
            say(0.1, "warming up")
            await ingest.submit([Submission(warm, f"w{i}", 1) for i in range(120)])
            await _until_ranked(api, warm, 120, timeout_s)
            say(0.2, f"{events:,} scores")
            started = time.perf_counter()
            for i in range(0, events, 1000):
                await ingest.submit([Submission(board, f"u{j}", j % 1000) for j in range(i, min(events, i + 1000))])
            appended_s = time.perf_counter() - started
            db_s = asyncio.create_task(_until_committed(settings, bench_names, started, timeout_s))
            ranked = await _until_ranked(
                api, board, events, timeout_s, lambda n: say(0.2 + 0.8 * n / events, f"{n:,} ranked")
            )
            pipeline_s = time.perf_counter() - started
            db_done_s = await db_s
        finally:
            await log.close()
            for name in (warm, board):
                await api.delete(f"/v1/boards/{name}")
    return {
        "per_s": ranked / pipeline_s,
        "ranked": ranked,
        "db_stage_per_s": events / db_done_s if db_done_s else 0.0,
        "append_per_s": events / appended_s,
    }


async def _until_ranked(
    api: httpx.AsyncClient, board: str, wanted: int, timeout_s: float, say: Callable[[int], None] | None = None
) -> int:
    deadline = time.monotonic() + timeout_s
    users = 0
    while time.monotonic() < deadline:
        answer = await api.get(f"/v1/boards/{board}")
        users = int(answer.json().get("users", 0)) if answer.status_code == 200 else 0
        if say is not None:
            say(users)
        if users >= wanted:
            return users
        await asyncio.sleep(0.1)
    return users


async def _until_committed(settings: Settings, bench_names: BenchNames, started: float, timeout_s: float) -> float:
    """Seconds from `started` until the db-worker group has committed the topic's end; 0 on time-out."""
    from confluent_kafka import Consumer, TopicPartition

    topic = bench_names.ingest_topic
    consumer = Consumer(
        {"bootstrap.servers": settings.kafka_bootstrap, "group.id": bench_names.db_group, "enable.auto.commit": False}
    )
    try:
        parts = [TopicPartition(topic, p) for p in range(settings.ingest_partitions)]
        ends = [consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in parts]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            committed = await asyncio.to_thread(consumer.committed, parts, 10)
            if all(c.offset >= e for c, e in zip(committed, ends, strict=True)):
                return time.perf_counter() - started
            await asyncio.sleep(0.1)
        return 0.0
    finally:
        consumer.close()


async def run(
    settings: Settings, bench_names: BenchNames, *, events: int, log_dir: Path, progress: Progress | None
) -> Figure:
    one = await pipeline_rate(
        settings, bench_names, 1, events=events, log_dir=log_dir, timeout_s=300, progress=progress, share=(0, 0.5)
    )
    two = await pipeline_rate(
        settings, bench_names, 2, events=events, log_dir=log_dir, timeout_s=300, progress=progress, share=(0.5, 1)
    )
    return measured(
        "workers_2_vs_1",
        two["per_s"],
        "scores/s",
        one["per_s"],
        digits=0,
        events=events,
        db_stage_per_s={"1": round(one["db_stage_per_s"]), "2": round(two["db_stage_per_s"])},
        ranked={"1": one["ranked"], "2": two["ranked"]},
        partitions=settings.ingest_partitions,
        path="Kafka → db-worker → Cassandra → Debezium → Kafka → rank-worker → Redis (WAIT)",
        note="value: two db-workers and two rank-workers; baseline: one of each; ratio: two ÷ one",
    )
