"""CPU per score in every stage of the distributed pipeline, and the cores 1 M scores a
second would take (issue 19).

The pipeline stage (podium/tools/bench/workers.py, its one-worker run) reads the CPU time of
every process of the pipeline before and after a load: the api, Kafka, the db-worker,
Cassandra, Debezium, the rank-worker and every Redis of the stack (each server's main
thread from INFO; the Sentinels from /proc). Two loads, each sent through the api's batch
endpoint (1,000 scores a request) and timed until the board shows all of it:

  new        every score a new user's (one board, N users);
  returning  a board of U users, each scoring once first (not measured), then R more
             rounds of one score each, measured: the common case in a game.

From those: `cpu_us_per_score_<stage>_<workload>` per stage and
`cores_per_million_scores_per_s_<workload>`, their sum (1 µs a score is one core at
1 M scores/s). Processes elsewhere than this machine cannot be read; their stage is
left out and named in `detail`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from podium.settings import Settings
from podium.tools.bench import Figure, measured, skipped
from podium.tools.bench.cpu import Meter, cores_per_million_per_s, listening_pids, missing, us_per_score

# Stages in the order a score passes them.
STAGES = ("api", "kafka", "db-worker", "cassandra", "debezium", "rank-worker", "redis")
WORKLOADS = ("new", "returning")
DEBEZIUM_HTTP_PORT = 8089  # the stack's Debezium server (infra/conf/debezium)
BATCH = 1000


@dataclass
class Workload:
    """One measured load: scores sent, seconds until all visible, the db-worker stage's
    seconds, CPU µs a score by stage."""

    name: str
    scores: int
    users: int
    seconds: float = 0.0
    db_seconds: float = 0.0
    send_seconds: float = 0.0  # the api's part: the last batch request answered (the db stage's floor)
    seen: int = 0  # what the board showed at the end: users ranked, or users at their final total
    us: dict[str, float] = field(default_factory=dict)

    @property
    def per_s(self) -> float:
        return self.scores / self.seconds if self.seconds else 0.0

    @property
    def db_per_s(self) -> float:
        return self.scores / self.db_seconds if self.db_seconds else 0.0


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


async def pipeline_meter(settings: Settings, workers: Mapping[str, Sequence[int]]) -> Meter:
    """The meter of the pipeline's processes: `workers` (the bench's own api, db-worker and
    rank-worker pids, by stage) and the stack's engines, found by their ports here."""
    import redis.asyncio as aioredis

    meter = Meter()
    for stage, pids in workers.items():
        for pid in pids:
            meter.add_pid(stage, pid)
    engines = {
        "kafka": [_port(a) for a in settings.kafka_bootstrap.split(",")],
        "cassandra": [settings.cassandra_port],
        "debezium": [DEBEZIUM_HTTP_PORT],
        "redis": [port for _, port in settings.redis_sentinel_list],  # the Sentinels; the servers by INFO below
    }
    found = listening_pids({p for ports in engines.values() for p in ports})
    for stage, ports in engines.items():
        for pid in dict.fromkeys(found[p] for p in ports if p in found):
            meter.add_pid(stage, pid)
    for host, port in await redis_servers(settings):
        meter.add_redis("redis", aioredis.Redis(host=host, port=port, **settings.redis_auth))
    return meter


async def redis_servers(settings: Settings) -> list[tuple[str, int]]:
    """Every Redis server of the pipeline: each shard's primary and replicas (from the
    Sentinels), or the one `redis_url`."""
    from urllib.parse import urlparse

    if settings.redis_sentinels and settings.redis_shard_list:
        from podium.bootstrap import redis_sentinel

        sentinel = redis_sentinel(settings)
        found: list[tuple[str, int]] = []
        try:
            for shard in settings.redis_shard_list:
                primary = await sentinel.discover_master(shard)
                replicas = await sentinel.discover_slaves(shard)
                found += [(str(h), int(p)) for h, p in [primary, *replicas]]
        finally:
            for client in sentinel.sentinels:
                await client.aclose()
        return list(dict.fromkeys(found))
    urls = settings.redis_shard_list or [settings.redis_url]
    return [(urlparse(u).hostname or "127.0.0.1", urlparse(u).port or 6379) for u in urls]


async def submit(api: httpx.AsyncClient, board: str, scores: Sequence[tuple[str, int]]) -> None:
    """Scores through the api's batch endpoint, 1,000 a request."""
    for i in range(0, len(scores), BATCH):
        body = {"scores": [{"user_id": u, "score": s} for u, s in scores[i : i + BATCH]]}
        (await api.post(f"/v1/boards/{board}/scores/batch", json=body)).raise_for_status()


async def measure(
    meter: Meter,
    workload: Workload,
    send: Callable[[], Awaitable[None]],
    visible: Callable[[], Awaitable[int]],
    db_done: Callable[[float], Awaitable[float]],
) -> Workload:
    """Read the meter, `send` the load, wait until `visible` and the db-worker stage is done
    (`db_done(started)`: its seconds), read the meter again."""
    before = await meter.read()
    started = time.perf_counter()
    await send()
    workload.send_seconds = time.perf_counter() - started
    db_seconds = await db_done(started)
    workload.seen = await visible()
    workload.seconds = time.perf_counter() - started
    workload.db_seconds = db_seconds
    workload.us = us_per_score(before, await meter.read(), workload.scores)
    return workload


async def idle_cpu(meter: Meter, seconds: float = 2.0) -> dict[str, float]:
    """Each stage's CPU seconds a second with no load: what its processes spend anyway (a
    JVM's collector and timers, Cassandra's housekeeping, Redis's cron). Reported beside
    the figures: at a few thousand scores a second it is a share of them, at 1 M/s not."""
    before = await meter.read()
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    after = await meter.read()
    elapsed = time.perf_counter() - started
    return {stage: (after[stage] - before.get(stage, 0.0)) / elapsed for stage in after}


def figures(
    meter: Meter,
    done: Sequence[Workload],
    raw_cassandra_per_s: float | None,
    idle: Mapping[str, float],
    **detail: Any,
) -> list[Figure]:
    """The per-stage figures of each workload, the cores, and `db_stage_vs_raw_cassandra`.
    `idle`: each stage's CPU seconds a second without load (idle_cpu)."""
    absent = missing(meter, STAGES)
    found: list[Figure] = []
    for w in done:
        common = {"scores": w.scores, "users": w.users, "seen": w.seen, "pipeline_per_s": round(w.per_s), **detail}
        # What the stage would have spent in the same time without any load, a score.
        idle_us = {s: round(idle.get(s, 0.0) * w.seconds * 1e6 / max(w.scores, 1), 1) for s in STAGES}
        for stage in STAGES:
            name = f"cpu_us_per_score_{stage.replace('-', '_')}_{w.name}"
            if stage in absent:
                found.append(skipped(name, "µs", f"no {stage} process on this machine to read"))
            else:
                found.append(
                    Figure(name, w.us.get(stage, 0.0), "µs", detail={**common, "of_which_idle_us": idle_us[stage]})
                )
        found.append(
            Figure(
                f"cores_per_million_scores_per_s_{w.name}",
                cores_per_million_per_s({s: w.us.get(s, 0.0) for s in STAGES}),
                "cores",
                detail={
                    **common,
                    "us_per_score_by_stage": {s: w.us.get(s) for s in STAGES},
                    "idle_us_per_score_by_stage": idle_us,
                    "cores_less_idle": round(sum(w.us.get(s, 0.0) - idle_us[s] for s in STAGES), 1),
                    "stages_not_on_this_machine": absent,
                    "method": "CPU seconds of every process of the pipeline (Redis: each server's main thread, "
                    "INFO) between the first score sent and the last visible, ÷ scores; summed over stages",
                },
            )
        )
    new = next((w for w in done if w.name == "new"), None)
    if new is not None and not raw_cassandra_per_s:
        why = detail.get("raw_cassandra", {}).get("error", "no rate")
        found.append(skipped("db_stage_vs_raw_cassandra", "scores/s", f"the raw Cassandra loop failed: {why}"))
    elif new is not None:
        found.append(
            measured(
                "db_stage_vs_raw_cassandra",
                new.db_per_s,
                "scores/s",
                raw_cassandra_per_s,
                digits=0,
                workload="new",
                db_stage_per_s_by_workload={w.name: round(w.db_per_s) for w in done},
                # The stage cannot end before the api has taken the last score: its rate bounds the stage's.
                sent_per_s_by_workload={w.name: round(w.scores / w.send_seconds) for w in done if w.send_seconds},
                scores=new.scores,
                note="value: the db-worker stage (first score sent until its group has committed the topic); "
                "baseline: a plain loop writing the same totals rows, prepared, same consistency, the same "
                "per-partition unlogged batches all in flight for each 5,000 rows (the db-worker's batch size), "
                "new users' first rows as the db-worker writes them "
                "(podium/tools/bench/raw_cassandra.py)",
            )
        )
    return found
