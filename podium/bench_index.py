"""Rank index benchmark: the same queries on one plain sorted set (the raw engine),
on the unsharded index (one bucket) and on the sharded index (many buckets over
several shards), all on the same Redis servers in the same run.

Each figure is a ratio: our operation's median latency ÷ the plain sorted-set
command's (ZREVRANK for a rank, ZREVRANGE for a page or a window); for writes,
totals applied a second ÷ raw pipelined ZADDs a second.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

from podium.bench import Figure
from podium.domain.boards import Board
from podium.domain.buckets import SplitPolicy
from podium.domain.totals import LogPosition, Total
from podium.index.base import RankIndex
from podium.index.sharded import ShardedRedisRankIndex

QUERIES = 300


def make_totals(board: str, users: int, seed: int = 1) -> list[Total]:
    rng = random.Random(seed)
    return [
        Total(board, f"user{i}", int(rng.paretovariate(1.2) * 100), 1, rng.randrange(10**12), LogPosition(0, i))
        for i in range(users)
    ]


async def timed(op: Callable[[], Awaitable[Any]], runs: int) -> float:
    """Median seconds of `runs` calls."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await op()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def load(
    index: RankIndex, board: Board, totals: Sequence[Total], batch: int, progress: str
) -> tuple[float, float]:
    """Apply all totals in batches; returns totals applied a second, and the slowest
    batch's seconds (a split or a mover batch holding the board shows there)."""
    started = time.perf_counter()
    slowest = 0.0
    for i in range(0, len(totals), batch):
        one = time.perf_counter()
        await index.apply(board, totals[i : i + batch])
        slowest = max(slowest, time.perf_counter() - one)
        if progress and (i // batch) % 50 == 0:
            print(f"\r  {progress}: {i + batch}/{len(totals)}", end="", flush=True)
    if progress:
        print()
    return len(totals) / (time.perf_counter() - started), slowest


async def raw_zadd_rate(client: Any, totals: Sequence[Total], batch: int) -> float:
    key = f"bench:raw-zadd:{uuid.uuid4().hex}"
    started = time.perf_counter()
    for i in range(0, len(totals), batch):
        async with client.pipeline(transaction=False) as pipe:
            for t in totals[i : i + batch]:
                pipe.zadd(key, {t.user_id: t.total})
            await pipe.execute()
    rate = len(totals) / (time.perf_counter() - started)
    await client.unlink(key)
    return rate


async def run(shard_urls: Sequence[str], *, users: int, bucket_members: int, progress: bool = True) -> list[Figure]:
    import redis.asyncio as aioredis

    raw = aioredis.Redis.from_url(shard_urls[0])
    plain_key = f"bench:plain:{uuid.uuid4().hex}"
    totals = make_totals("bench", users)

    def say(label: str) -> str:
        return label if progress else ""

    # The raw engine: one plain sorted set, user → total.
    for i in range(0, users, 10_000):
        async with raw.pipeline(transaction=False) as pipe:
            pipe.zadd(plain_key, {t.user_id: t.total for t in totals[i : i + 10_000]})
            await pipe.execute()
    single = ShardedRedisRankIndex.from_urls(shard_urls[:1], policy=SplitPolicy.never())
    sharded = ShardedRedisRankIndex.from_urls(
        shard_urls, policy=SplitPolicy(max_members=bucket_members, max_writes_per_s=1e12)
    )
    b1 = Board(f"bench-single-{uuid.uuid4().hex[:6]}")
    bn = Board(f"bench-sharded-{uuid.uuid4().hex[:6]}")
    single_rate, _ = await load(single, b1, [replace(t, board=b1.name) for t in totals], 1000, say("load, 1 bucket"))
    sharded_rate, slowest = await load(
        sharded, bn, [replace(t, board=bn.name) for t in totals], 1000, say("load, sharded")
    )
    draining = time.perf_counter()
    await sharded.finish_moves(bn)  # the queries below measure settled buckets
    drain_s = time.perf_counter() - draining
    raw_rate = await raw_zadd_rate(raw, totals[: min(users, 200_000)], 1000)
    buckets = await sharded.buckets(bn)
    rng = random.Random(2)
    probes = [f"user{rng.randrange(users)}" for _ in range(QUERIES)]
    offsets = [rng.randrange(users - 100) for _ in range(QUERIES)]

    async def probe_loop(op: Callable[[int], Awaitable[Any]]) -> float:
        i = iter(range(10**9))
        return await timed(lambda: op(next(i) % QUERIES), QUERIES)

    base_rank = await probe_loop(lambda i: raw.zrevrank(plain_key, probes[i]))
    base_page = await probe_loop(lambda i: raw.zrevrange(plain_key, offsets[i], offsets[i] + 99))
    base_window = await probe_loop(lambda i: raw.zrevrange(plain_key, offsets[i], offsets[i] + 10))
    figures: list[Figure] = []
    for label, index, board in (("1_bucket", single, b1), ("sharded", sharded, bn)):
        rank_s = await probe_loop(lambda i, x=index, bb=board: x.entry(bb, probes[i]))  # type: ignore[misc]
        page_s = await probe_loop(lambda i, x=index, bb=board: x.page(bb, offsets[i] + 1, 100))  # type: ignore[misc]
        window_s = await probe_loop(lambda i, x=index, bb=board: x.page(bb, offsets[i] + 1, 11))  # type: ignore[misc]
        detail = {"users": users, "buckets": len(buckets) if label == "sharded" else 1, "shards": len(shard_urls)}
        figures += [
            Figure(f"rank_query_vs_zrevrank_{label}", round(rank_s * 1e3, 3), "ms", round(base_rank * 1e3, 3),
                   round(rank_s / base_rank, 2), detail),
            Figure(f"top_page_vs_zrevrange_{label}", round(page_s * 1e3, 3), "ms", round(base_page * 1e3, 3),
                   round(page_s / base_page, 2), {**detail, "page": 100}),
            Figure(f"around_query_vs_zrevrange_{label}", round(window_s * 1e3, 3), "ms", round(base_window * 1e3, 3),
                   round(window_s / base_window, 2), {**detail, "window": 11}),
        ]  # fmt: skip
    figures += [
        Figure("rank_apply_1_bucket_vs_raw_zadd", round(single_rate), "totals/s", round(raw_rate),
               round(single_rate / raw_rate, 3), {"batch": 1000}),
        Figure("rank_apply_sharded_vs_raw_zadd", round(sharded_rate), "totals/s", round(raw_rate),
               round(sharded_rate / raw_rate, 3),
               {"batch": 1000, "splits_included": True, "slowest_batch_ms": round(slowest * 1e3, 1),
                "mover_left_after_load_s": round(drain_s, 2)}),
    ]  # fmt: skip
    await raw.unlink(plain_key)  # UNLINK: freeing millions of members must not block the server
    await single.close()
    await sharded.close()
    await raw.aclose()
    return figures
