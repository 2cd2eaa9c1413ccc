"""The pipeline stage (distributed profile, `--stages workers`): api → ingest log →
db-worker → Cassandra → Debezium → change topic → rank-worker → Redis.

For each worker count: start the workers and one api process, warm them up until a first
batch is visible (the groups have their partitions), then send N scores for N new users
through the api's batch endpoint and time until the board ranks all N; the db-worker
stage's own rate (until its group has committed the whole topic) beside it.

With one of each, the CPU per score of every stage too (podium/tools/bench/pipeline.py), for
those new users and then for returning users; and Cassandra's own write rate for the same
rows (podium/tools/bench/raw_cassandra.py), for `db_stage_vs_raw_cassandra`. With two of each,
`workers_2_vs_1`: two ÷ one, reported without a target.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from podium.settings import Settings
from podium.tools.bench import Figure, measured, pipeline, raw_cassandra
from podium.tools.bench.cpu import Meter
from podium.tools.bench.isolation import BenchNames
from podium.tools.bench.processes import podium_process, running
from podium.tools.bench.progress import Progress
from podium.tools.bench.run import QUIET_CHECK_S

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
    returning: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """Scores a second through the pipeline with `workers` of each worker; with `returning`
    = (users, rounds), the CPU per score of every stage too (podium/tools/bench/pipeline.py), for
    the new-user load and then for returning users."""
    # The api's webhook check announces the ended periods of every board in the shared
    # keyspace: on the stack, boards other runs left (1,418, 22 of them with a period ending
    # at each check). Its first pass read the totals partitions ~21,000 times in the api's
    # first seconds (the warm-up and the idle reading), then ~1,400 each check: most of this
    # api's and of Cassandra's "idle" CPU, and a share of their CPU a score, none of it a
    # score's. Off for the stage, as in the ingest stage: its cost is a period end's.
    quiet = {**DISTRIBUTED, "PODIUM_WEBHOOK_CHECK_S": str(QUIET_CHECK_S)}
    procs = {"api": [podium_process(["api"], log_dir=log_dir, env=quiet, names_flags=bench_names.flags())]}
    for role in ("db-worker", "rank-worker"):
        procs[role] = [
            podium_process([role], log_dir=log_dir, env=DISTRIBUTED, names_flags=bench_names.flags())
            for _ in range(workers)
        ]
    api_port = procs["api"][0].port

    def say(part: float, note: str) -> None:
        if progress is not None:
            progress.update(share[0] + (share[1] - share[0]) * part, f"{workers} worker(s) of each: {note}")

    say(0.0, "starting")
    every = [p for ps in procs.values() for p in ps]
    boards: list[str] = []
    async with running(every), httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", timeout=30) as api:
        pids = {stage: [p.proc.pid for p in ps if p.proc is not None] for stage, ps in procs.items()}
        meter = await pipeline.pipeline_meter(settings, pids) if returning else Meter()
        try:

            async def board(name: str) -> str:
                boards.append(f"bench-{name}-{uuid.uuid4().hex[:8]}")
                (await api.put(f"/v1/boards/{boards[-1]}", json={})).raise_for_status()
                return boards[-1]

            def db_done(started: float) -> Awaitable[float]:
                return _until_committed(settings, bench_names, started, timeout_s)

            warm = await board("warm")
            say(0.1, "warming up")
            await pipeline.submit(api, warm, [(f"w{i}", 1) for i in range(120)])
            await _until_ranked(api, warm, 120, timeout_s)
            idle = await pipeline.idle_cpu(meter) if returning else {}
            say(0.2, f"{events:,} scores of new users")
            news = await board("workers")
            new = await pipeline.measure(
                meter,
                pipeline.Workload("new", events, events),
                lambda: pipeline.submit(api, news, [(f"u{j}", j % 1000) for j in range(events)]),
                lambda: _until_ranked(
                    api, news, events, timeout_s, lambda n: say(0.2 + (0.3 if returning else 0.8) * n / events,
                                                                f"{n:,} ranked")
                ),
                db_done,
            )  # fmt: skip
            done = [new]
            if returning:
                users, rounds = returning
                back = await board("returning")
                say(0.5, f"{users:,} returning users' first scores")
                await pipeline.submit(api, back, [(f"r{j}", 1) for j in range(users)])
                await _until_ranked(api, back, users, timeout_s)
                say(0.7, f"{users:,} users scoring {rounds} times more")
                done.append(
                    await pipeline.measure(
                        meter,
                        pipeline.Workload("returning", users * rounds, users),
                        lambda: pipeline.submit(api, back, [(f"r{j}", 1) for _ in range(rounds) for j in range(users)]),
                        lambda: _until_count(api, back, users, rounds + 1, timeout_s),
                        db_done,
                    )
                )
        finally:
            await meter.close()
            for name in boards:
                await api.delete(f"/v1/boards/{name}")
    return {
        "per_s": new.per_s,
        "ranked": new.seen,
        "db_stage_per_s": new.db_per_s,
        "workloads": done,
        "meter": meter,
        "idle": idle,
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


async def _until_count(api: httpx.AsyncClient, board: str, users: int, total: int, timeout_s: float) -> int:
    """Until all `users` of the board have a total of at least `total` (totals only grow
    here: the board sums its scores); how many had."""
    deadline = time.monotonic() + timeout_s
    count = 0
    while time.monotonic() < deadline:
        answer = await api.get(f"/v1/boards/{board}/count", params={"min": total})
        count = int(answer.json().get("count", 0)) if answer.status_code == 200 else 0
        if count >= users:
            break
        await asyncio.sleep(0.1)
    return count


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
    settings: Settings,
    bench_names: BenchNames,
    *,
    events: int,
    returning: tuple[int, int],
    log_dir: Path,
    progress: Progress | None,
) -> list[Figure]:
    one = await pipeline_rate(
        settings, bench_names, 1, events=events, log_dir=log_dir, timeout_s=300, progress=progress, share=(0, 0.55),
        returning=returning,
    )  # fmt: skip
    if progress is not None:
        progress.update(0.55, f"Cassandra alone: {events:,} rows")
    try:
        raw: dict[str, Any] = await asyncio.to_thread(raw_cassandra.rows_per_s, settings, events)
    except Exception as exc:  # the pipeline's figures stand without it: say why it is missing
        raw = {"per_s": None, "error": f"{type(exc).__name__}: {exc}"}
    two = await pipeline_rate(
        settings, bench_names, 2, events=events, log_dir=log_dir, timeout_s=300, progress=progress, share=(0.6, 1)
    )
    found = pipeline.figures(
        one["meter"], one["workloads"], raw["per_s"], one["idle"],
        partitions=settings.ingest_partitions, worker_processes=1, raw_cassandra=raw,
    )  # fmt: skip
    found.append(
        measured(
            "workers_2_vs_1",
            two["per_s"],
            "scores/s",
            one["per_s"],
            digits=0,
            events=events,
            db_stage_per_s={"1": round(one["db_stage_per_s"]), "2": round(two["db_stage_per_s"])},
            ranked={"1": one["ranked"], "2": two["ranked"]},
            partitions=settings.ingest_partitions,
            path="api (batches) → Kafka → db-worker → Cassandra → Debezium → Kafka → rank-worker → Redis (WAIT)",
            note="value: two db-workers and two rank-workers; baseline: one of each; ratio: two ÷ one",
        )
    )
    return found
