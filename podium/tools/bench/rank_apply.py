"""`rank_apply_vs_raw_zadd`: the rank-worker's applied totals a second, wired as the
distributed profile wires it on one Redis (the rank index never split, the social index
and the live hub beside it, `WAIT` for one replica before each batch counts), fed from
memory so that nothing but the worker and Redis is measured; ÷ `redis-benchmark`'s
pipelined ZADDs a second on the same Redis, same run.

Two more runs split the gap: the index's `apply` alone (same batches), and the worker
without the live hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from podium.cdc.base import Change
from podium.domain.boards import Board
from podium.domain.buckets import SplitPolicy
from podium.domain.totals import Total
from podium.errors import BackendUnavailable
from podium.index.generations import GenerationalRankIndex, RedisGenerations
from podium.index.sharded import ShardedRedisRankIndex
from podium.live.redis import RedisLiveHub
from podium.pipeline.rank_worker import RankWorker, RankWorkerSettings
from podium.social.redis import RedisSocialIndex
from podium.store.sqlite import SqliteStore
from podium.tools.bench import Figure, measured
from podium.tools.bench.index import make_totals
from podium.tools.bench.progress import Progress
from podium.usecases.board_settings import Boards
from podium.visibility.polling import PollingVisibility

# What is measured: (label, with the social index, with the live hub).
VARIANTS = (("index_only", False, False), ("worker_without_live", True, False), ("worker", True, True))


class ListFeed:
    """A change feed over a list in memory: each poll hands out the next changes."""

    def __init__(self, totals: Sequence[Total]) -> None:
        self._changes = [Change(t.position, t) for t in totals]
        self._next = 0

    async def poll(self, max_changes: int, timeout_s: float) -> list[Change]:
        batch = self._changes[self._next : self._next + max_changes]
        self._next += len(batch)
        return batch

    async def commit(self, changes: Sequence[Change]) -> None:
        return None

    async def rewind(self) -> None:
        return None

    async def close(self) -> None:
        return None

    @property
    def left(self) -> int:
        return len(self._changes) - self._next


async def run(
    url: str, *, totals_count: int, seconds: float, raw_zadd_per_s: float, wait_replicas: int, progress: Progress | None
) -> Figure:
    totals = make_totals("bench", totals_count, seed=3)
    rates = await _measure(url, totals, seconds, wait_replicas, progress, variants=VARIANTS)
    return measured(
        "rank_apply_vs_raw_zadd",
        rates["worker"],
        "totals/s",
        raw_zadd_per_s,
        digits=0,
        index_only_per_s=round(rates["index_only"]),
        worker_without_live_per_s=round(rates["worker_without_live"]),
        batch=RankWorkerSettings().batch_size,
        wait_replicas=wait_replicas,
        layout="one Redis, never split (the index, social index and live hub on it)",
        baseline="redis-benchmark -c 1 -P 1000, ZADD of random members, same Redis",
    )


async def _measure(
    url: str,
    totals: list[Total],
    seconds: float,
    wait_replicas: int,
    progress: Progress | None,
    *,
    variants: Sequence[tuple[str, bool, bool]],
) -> dict[str, float]:
    import redis.asyncio as aioredis

    clients: list[Any] = []

    def client() -> Any:
        clients.append(aioredis.Redis.from_url(url))
        return clients[-1]

    index = GenerationalRankIndex(
        ShardedRedisRankIndex([client()], policy=SplitPolicy.never(), wait_replicas=wait_replicas),
        RedisGenerations(client()),
        read_cache_s=0.25,
        drop_grace_s=0.0,
    )
    social = RedisSocialIndex(client(), fan_out_cap=10_000, wait_replicas=wait_replicas)
    live = RedisLiveHub(client())
    rates: dict[str, float] = {}
    used: list[Board] = []
    with tempfile.TemporaryDirectory(prefix="podium-bench-boards-") as tmp:
        store = SqliteStore(Path(tmp) / "store.db", synchronous="off")
        await store.open()
        boards = Boards(store)
        try:
            for share, (label, with_social, with_live) in enumerate(variants):
                board, _ = await boards.create(Board(f"bench-apply-{label}-{uuid.uuid4().hex[:6]}"))
                used.append(board)
                mine = [replace(t, board=board.name) for t in totals]
                if progress is not None:
                    progress.update(share / len(variants), label.replace("_", " "))
                if label == "index_only":
                    rates[label] = await _apply_alone(index, board, mine, seconds)
                else:
                    worker = RankWorker(
                        ListFeed(mine),
                        index,
                        boards,
                        PollingVisibility(index),
                        RankWorkerSettings(),
                        social if with_social else None,
                        live if with_live else None,
                    )
                    rates[label] = await _drain(worker, seconds)
        finally:
            for board in used:
                with contextlib.suppress(BackendUnavailable):
                    await index.drop_board(board)
            await store.close()
            await live.close()
            await social.close()
            await index.close()
            for c in clients:
                await c.aclose()
    return rates


async def _apply_alone(index: GenerationalRankIndex, board: Board, totals: list[Total], seconds: float) -> float:
    batch = RankWorkerSettings().batch_size
    started = time.perf_counter()
    done = 0
    while done < len(totals) and (time.perf_counter() - started < seconds or done == 0):
        await index.apply(board, totals[done : done + batch])
        done += len(totals[done : done + batch])
    return done / (time.perf_counter() - started)


async def _drain(worker: RankWorker, seconds: float) -> float:
    """Run the worker's batches until the feed is empty or `seconds` have passed."""
    started = time.perf_counter()
    applied = 0
    while time.perf_counter() - started < seconds or applied == 0:
        got = await worker.run_once()
        if got == 0:
            break
        applied += got
        await asyncio.sleep(0)
    return applied / (time.perf_counter() - started)
