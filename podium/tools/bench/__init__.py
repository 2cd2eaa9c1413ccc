"""`podium bench`: every stage measured against the raw engine underneath it, in the
same run (see docs/benchmarks.md). One module a stage:

  e2e.py         submit → visible latency through the whole pipeline
  ingest.py      single submissions vs a trivial endpoint; batches vs a bare Kafka producer
  index.py       rank, page and around queries vs plain sorted-set commands; bytes per user
  rank_apply.py  the rank-worker's applies (WAIT included) vs `redis-benchmark` ZADD
  agoragames.py  the same operations through agoragames' `leaderboard` library
  workers.py     the pipeline stage: throughput with one and two of each worker, and
                 with one, the CPU each process spends a score (new and returning users)
  pipeline.py    that stage's loads, CPU per score by stage and cores for 1 M scores/s
  raw_cassandra.py  Cassandra's own write rate for the db-worker stage's rows
  cpu.py         CPU time of processes (/proc) and Redis servers (INFO), before and after
  social.py      the social shards' Redis CPU per score; a friends board's read vs ZRANGE

run.py drives them, report.py and plots.py write the results.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any

STAGES = ("e2e", "ingest", "index", "apply", "social", "workers")


@dataclass
class Figure:
    """One measured figure. `ratio` is value ÷ baseline (the raw engine, same run); a figure
    the profile cannot measure has value None and `detail["skipped"]` saying why."""

    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def measured(
    name: str, value: float, unit: str, baseline: float | None, /, *, digits: int = 3, **detail: Any
) -> Figure:
    """A figure with its ratio to `baseline` worked out."""
    ratio = round(value / baseline, 3) if baseline else None
    return Figure(
        name, round(value, digits), unit, None if baseline is None else round(baseline, digits), ratio, detail
    )


def skipped(name: str, unit: str, why: str) -> Figure:
    return Figure(name, None, unit, detail={"skipped": why})


# The figures issues 8 and 19 name, each written by every run (measured, or skipped with a
# reason), and its target: (the field it applies to, "<=" or ">=", the limit, per profile if
# it differs), or None for a figure reported without one.
TARGETS: dict[str, tuple[str, str, float | dict[str, float]] | None] = {
    "rank_apply_vs_raw_zadd": ("ratio", ">=", 0.5),
    "rank_apply_sharded_vs_raw_zadd": ("ratio", ">=", 0.5),
    "ingest_batch_vs_raw_kafka": ("ratio", ">=", 0.5),
    "ingest_single_vs_bare_endpoint": ("ratio", ">=", 0.7),
    "e2e_p50_ms": None,
    "e2e_p99_ms": ("value", "<=", {"embedded": 20.0, "distributed": 500.0}),
    "rank_query_vs_zrevrank": ("ratio", "<=", 3.0),
    "around_query_vs_zrevrange": ("ratio", "<=", 3.0),
    "top_page_vs_zrevrange": ("ratio", "<=", 3.0),
    # Retired by issue 19: on two cores shared with three JVMs it measures the machine.
    "workers_2_vs_1": None,
    "redis_bytes_per_user": ("value", "<=", 150.0),
    "redis_rank_cpu_us_per_score": ("value", "<=", 12.0),
    "cores_per_million_scores_per_s_new": ("value", "<=", 250.0),
    "cores_per_million_scores_per_s_returning": ("value", "<=", 150.0),
    "db_stage_vs_raw_cassandra": ("ratio", ">=", 0.5),
}
AGORAGAMES_OPS = ("rank", "around", "top_page", "apply")
# Issue 18's: measured and reported, without a target.
SOCIAL = ("social_fanout_redis_cpu_us_per_score", "friends_board_query_vs_zrevrange")
NAMED = (*TARGETS, *(f"vs_agoragames_{op}" for op in AGORAGAMES_OPS), *SOCIAL)


def target(name: str, profile: str) -> tuple[str, str, float] | None:
    """The issue's target for a figure, as (field, op, limit); None if it has none."""
    goal = TARGETS.get(name)
    if goal is None:
        return None
    what, op, limit = goal
    return what, op, limit[profile] if isinstance(limit, dict) else limit


def meets(figure: Figure, profile: str) -> bool | None:
    """Whether the figure meets its target; None when it has none or was not measured."""
    goal = target(figure.name, profile)
    if goal is None:
        return None
    got = figure.ratio if goal[0] == "ratio" else figure.value
    if got is None:
        return None
    return got >= goal[2] if goal[1] == ">=" else got <= goal[2]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
