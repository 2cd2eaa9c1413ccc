"""The front door against what it stands on.

`ingest_single_vs_bare_endpoint`: single submissions a second (no wait: accepted means
durable in the log) ÷ the same requests to a trivial endpoint on the same server stack
(podium/tools/bench/bare.py), the same client, connection counts swept, peaks compared.

`ingest_batch_vs_raw_kafka`: scores a second accepted through the batch endpoint (1,000
a request) ÷ a bare confluent-kafka producer loop sending the same records (the same
encoded events, keys and producer settings) to the same topic.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from podium.domain.totals import ScoreSubmitted
from podium.pipeline.codec import encode_event, log_key
from podium.tools.bench import Figure, measured, percentile
from podium.tools.bench.http_load import Load, closed_loop, post
from podium.tools.bench.progress import Progress

USERS = 10_000
BATCH = 1000


def single_requests(board: str) -> list[bytes]:
    return [post(f"/v1/boards/{board}/scores", {"user_id": f"u{i}", "score": i % 1000}) for i in range(USERS)]


def batch_requests(board: str, count: int = 20) -> list[bytes]:
    return [
        post(
            f"/v1/boards/{board}/scores/batch",
            {"scores": [{"user_id": f"u{(b * BATCH + i) % USERS}", "score": i % 1000} for i in range(BATCH)]},
        )
        for b in range(count)
    ]


async def single_vs_bare(
    ours_port: int,
    bare_port: int,
    board: str,
    *,
    seconds: float,
    connections: Sequence[int],
    progress: Progress | None,
) -> tuple[Figure, dict[str, dict[int, float]]]:
    """The figure, and submissions a second per connection count for each server."""
    requests = single_requests(board)
    for port in (ours_port, bare_port):  # warm up: connections, caches, the JIT-less interpreter's first paths
        await closed_loop(port, requests, connections=4, seconds=min(0.5, seconds))
    sweep: dict[str, dict[int, float]] = {"podium": {}, "bare endpoint": {}}
    loads: dict[str, dict[int, Load]] = {"podium": {}, "bare endpoint": {}}
    for i, c in enumerate(connections):
        # Side by side at each step, so that the machine's other load falls on both alike.
        for label, port in (("podium", ours_port), ("bare endpoint", bare_port)):
            if progress is not None:
                progress.update(i / len(connections), f"{label}, {c} connections")
            load = await closed_loop(port, requests, connections=c, seconds=seconds)
            if load.failed:
                raise RuntimeError(f"{label}: {load.failed} requests failed: {load.statuses}")
            sweep[label][c] = load.per_s
            loads[label][c] = load
    best_ours = max(sweep["podium"], key=lambda c: sweep["podium"][c])
    best_bare = max(sweep["bare endpoint"], key=lambda c: sweep["bare endpoint"][c])
    ours_load = loads["podium"][best_ours]
    figure = measured(
        "ingest_single_vs_bare_endpoint",
        sweep["podium"][best_ours],
        "submissions/s",
        sweep["bare endpoint"][best_bare],
        digits=0,
        connections=best_ours,
        bare_connections=best_bare,
        p50_ms=round(percentile(ours_load.latencies_ms, 50), 2),
        p99_ms=round(percentile(ours_load.latencies_ms, 99), 2),
        per_connections={str(c): round(v) for c, v in sweep["podium"].items()},
        bare_per_connections={str(c): round(v) for c, v in sweep["bare endpoint"].items()},
        seconds_each=seconds,
        statistic="peak over the connection counts",
    )
    return figure, sweep


async def batch_rate(port: int, board: str, *, seconds: float, connections: int) -> Load:
    load = await closed_loop(port, batch_requests(board), connections=connections, seconds=seconds)
    if load.failed:
        raise RuntimeError(f"batch endpoint: {load.failed} requests failed: {load.statuses}")
    return load


def raw_kafka_per_s(bootstrap: str, topic: str, board: str, *, seconds: float, linger_ms: float) -> float:
    """Records a second a bare producer gets acknowledged: the same records the batch
    endpoint appends, in the same producer settings, produced in a loop for `seconds`,
    then flushed (the flush counts in the time)."""
    from confluent_kafka import Producer

    from podium.log.kafka import producer_config

    records = [
        (
            log_key(board, f"u{i}").encode(),
            encode_event(ScoreSubmitted(board, f"u{i}", i % 1000, None, time.time_ns() // 1000 + i)),
        )
        for i in range(USERS)
    ]
    producer = Producer(producer_config(bootstrap, **{"client.id": "podium-bench-raw", "linger.ms": linger_ms}))
    delivered = 0
    lock = threading.Lock()

    def done(err: Any, msg: Any) -> None:
        nonlocal delivered
        if err is None:
            with lock:
                delivered += 1

    started = time.perf_counter()
    i = 0
    while time.perf_counter() - started < seconds:
        key, value = records[i % USERS]
        try:
            producer.produce(topic, value=value, key=key, on_delivery=done)
            i += 1
        except BufferError:
            producer.poll(0.01)
        if i % 1000 == 0:
            producer.poll(0)
    producer.flush(30)
    return delivered / (time.perf_counter() - started)


def batch_figure(ours: Load, raw_per_s: float, *, connections: int, seconds: float, linger_ms: float) -> Figure:
    return measured(
        "ingest_batch_vs_raw_kafka",
        ours.per_s * BATCH,
        "scores/s",
        raw_per_s,
        digits=0,
        batch=BATCH,
        connections=connections,
        seconds=seconds,
        request_p50_ms=round(percentile(ours.latencies_ms, 50), 1),
        topic_partitions="the stage's own topic, the profile's partitions",
        baseline=f"confluent-kafka Producer loop, same config (idempotent, acks=all, lz4, linger {linger_ms:g} ms), "
        "same records",
    )
