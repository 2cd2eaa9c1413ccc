"""The rank index against the raw engine: the same queries on one plain sorted set, on
the unsharded index (one Redis, never split) and on the sharded index (buckets over
several shards), all on the same Redis servers in the same run; and what a user costs
in Redis memory.

Each query figure is our median latency ÷ the plain sorted-set command's (ZREVRANK for
a rank, ZREVRANGE for a page of 100 or a window of 11), the two called in pairs so that
both see the machine as it is at that moment; the loads give totals applied a
second (batches of 1,000, `WAIT` for a replica when the shards have one) ÷
`redis-benchmark`'s pipelined ZADDs a second on the first shard.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from podium.domain.boards import Board
from podium.domain.buckets import SplitPolicy
from podium.domain.totals import LogPosition, Total
from podium.index.base import RankIndex
from podium.index.sharded import ShardedRedisRankIndex
from podium.plumbing import names
from podium.tools.bench import Figure, measured
from podium.tools.bench.cpu import redis_shards_meter, us_per_score
from podium.tools.bench.progress import Progress

QUERIES = 300
PAGE = 100
WINDOW = 11


def make_totals(board: str, users: int, seed: int = 1) -> list[Total]:
    """Pareto-distributed integer totals (many ties), one version each."""
    rng = random.Random(seed)
    return [
        Total(board, f"user{i}", int(rng.paretovariate(1.2) * 100), 1, rng.randrange(10**12), LogPosition(0, i))
        for i in range(users)
    ]


def default_bucket_members(users: int) -> int:
    """About 16 buckets after the lazy splits (19 since a split keeps three quarters), as 1 M
    users give at the profile's default of 100,000 members; never more than that default."""
    return min(100_000, max(500, users // 10))


async def replicas_of(urls: Sequence[str]) -> int:
    """The fewest connected replicas any of the shards has (what WAIT can ask for)."""
    import redis.asyncio as aioredis

    fewest = None
    for url in urls:
        client = aioredis.Redis.from_url(url)
        try:
            info = await client.info("replication")
        finally:
            await client.aclose()
        got = int(info.get("connected_slaves", 0))
        fewest = got if fewest is None else min(fewest, got)
    return min(fewest or 0, 1)


async def paired_samples_of(
    plain: Callable[[int], Awaitable[Any]], ours: Callable[[int], Awaitable[Any]], runs: int = QUERIES
) -> tuple[list[float], list[float]]:
    """Milliseconds of `runs` calls of each, call i of `ours` right after call i of `plain`."""
    base, found = [], []
    for i in range(runs):
        started = time.perf_counter()
        await plain(i)
        middle = time.perf_counter()
        await ours(i)
        base.append((middle - started) * 1e3)
        found.append((time.perf_counter() - middle) * 1e3)
    return base, found


@dataclass
class IndexBench:
    """One board loaded three ways on the same servers; `run` measures, `close` cleans up."""

    shard_urls: Sequence[str]
    users: int
    bucket_members: int
    progress: Progress | None = None
    series: dict[str, list[float]] = field(default_factory=dict)  # latency samples (ms), for plots
    totals: list[Total] = field(default_factory=list)
    probes: list[str] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    shard_cpu_us: dict[str, float] = field(default_factory=dict)  # µs a user applied, by primaries/replicas

    async def open(self) -> None:
        import redis.asyncio as aioredis

        self.raw = aioredis.Redis.from_url(self.shard_urls[0])
        self.wait_replicas = await replicas_of(self.shard_urls)
        wait: dict[str, Any] = {"wait_replicas": self.wait_replicas}
        self.single = ShardedRedisRankIndex.from_urls(self.shard_urls[:1], policy=SplitPolicy.never(), **wait)
        self.sharded = ShardedRedisRankIndex.from_urls(
            self.shard_urls, policy=SplitPolicy(max_members=self.bucket_members, max_writes_per_s=1e12), **wait
        )
        run = uuid.uuid4().hex[:6]
        self.plain_key = f"bench:plain:{run}"
        self.b1 = Board(f"bench-single-{run}")
        self.bn = Board(f"bench-sharded-{run}")
        self.totals = make_totals("bench", self.users)
        rng = random.Random(2)
        self.probes = [f"user{rng.randrange(self.users)}" for _ in range(QUERIES)]
        self.offsets = [rng.randrange(max(1, self.users - PAGE)) for _ in range(QUERIES)]

    def _say(self, share: float, note: str) -> None:
        if self.progress is not None:
            self.progress.update(share, note)

    async def load(self) -> dict[str, float]:
        """Load the plain set and both indexes; totals a second and the sharded load's details."""
        for i in range(0, self.users, 10_000):
            async with self.raw.pipeline(transaction=False) as pipe:
                pipe.zadd(self.plain_key, {t.user_id: t.total for t in self.totals[i : i + 10_000]})
                await pipe.execute()
        before = await used_memory(self.shard_urls)
        single_rate, _ = await self._load(self.single, self.b1, 0.0, 0.3, "load, 1 bucket")
        middle = await used_memory(self.shard_urls)
        meter = await redis_shards_meter(self.shard_urls)
        try:
            cpu_before = await meter.read()
            sharded_rate, slowest = await self._load(self.sharded, self.bn, 0.3, 0.6, "load, sharded")
            draining = time.perf_counter()
            self._say(0.6, "movers settling")
            await self.sharded.finish_moves(self.bn)  # the queries below measure settled buckets
            self.drain_s = time.perf_counter() - draining
            # The movers' copies are part of what a split board's writes cost: counted in.
            self.shard_cpu_us = us_per_score(cpu_before, await meter.read(), self.users)
        finally:
            await meter.close()
        self.slowest_batch_ms = slowest * 1e3
        self.info_delta = {"1_bucket": middle - before, "sharded": await used_memory(self.shard_urls) - middle}
        return {"1_bucket": single_rate, "sharded": sharded_rate}

    async def _load(self, index: RankIndex, board: Board, start: float, end: float, note: str) -> tuple[float, float]:
        """Apply all totals in batches of 1,000: totals a second, and the slowest batch's
        seconds (a split or a mover batch holding the board shows there)."""
        totals = [replace(t, board=board.name) for t in self.totals]
        started = time.perf_counter()
        slowest = 0.0
        for i in range(0, len(totals), 1000):
            one = time.perf_counter()
            await index.apply(board, totals[i : i + 1000])
            slowest = max(slowest, time.perf_counter() - one)
            if (i // 1000) % 20 == 0:
                self._say(start + (end - start) * i / len(totals), f"{note} {i:,}/{len(totals):,}")
        return len(totals) / (time.perf_counter() - started), slowest

    async def queries(self) -> list[Figure]:
        """Each query against its plain command, in pairs: call i of ours right after call i
        of the plain one, so that both medians come from the same moments of the machine (on
        a shared machine a baseline taken a second apart swung 0.16–0.39 ms between runs)."""
        raw, key, probes, offsets = self.raw, self.plain_key, self.probes, self.offsets
        self._say(0.7, "queries")
        plain: dict[str, Callable[[int], Awaitable[Any]]] = {
            "rank": lambda i: raw.zrevrank(key, probes[i]),
            "page": lambda i: raw.zrevrange(key, offsets[i], offsets[i] + PAGE - 1),
            "window": lambda i: raw.zrevrange(key, offsets[i], offsets[i] + WINDOW - 1),
        }
        buckets = len(await self.sharded.buckets(self.bn))
        figures: list[Figure] = []
        for layout, index, board in (("1_bucket", self.single, self.b1), ("sharded", self.sharded, self.bn)):
            ours: dict[str, Callable[[int], Awaitable[Any]]] = {
                "rank": lambda i, x=index, b=board: x.entry(b, probes[i]),  # type: ignore[misc]
                "page": lambda i, x=index, b=board: x.page(b, offsets[i] + 1, PAGE),  # type: ignore[misc]
                "window": lambda i, x=index, b=board: x.page(b, offsets[i] + 1, WINDOW),  # type: ignore[misc]
            }  # fmt: skip
            suffix = "" if layout == "sharded" else "_1_bucket"
            detail: dict[str, Any] = {
                "users": self.users,
                "layout": layout,
                "buckets": buckets if layout == "sharded" else 1,
                "shards": len(self.shard_urls) if layout == "sharded" else 1,
                "queries": QUERIES,
                "statistic": "median",
                "method": "ours and the plain command in pairs, call by call",
            }
            for name, op, extra in (
                ("rank_query_vs_zrevrank", "rank", {}),
                ("top_page_vs_zrevrange", "page", {"page": PAGE}),
                ("around_query_vs_zrevrange", "window", {"window": WINDOW}),
            ):
                base, found = await paired_samples_of(plain[op], ours[op])
                figures.append(
                    measured(
                        name + suffix,
                        statistics.median(found),
                        "ms",
                        statistics.median(base),
                        **detail,
                        **extra,
                        p99_ms=round(sorted(found)[int(len(found) * 0.99)], 3),
                    )
                )
                self.series[f"{op} {layout}"] = found
                if layout == "sharded":
                    self.series[f"{op} plain sorted set"] = base
        return figures

    def apply_figures(self, rates: dict[str, float], raw_zadd_per_s: float) -> list[Figure]:
        detail: dict[str, Any] = {
            "batch": 1000,
            "users": self.users,
            "wait_replicas": self.wait_replicas,
            "baseline": "redis-benchmark",
        }
        return [
            measured("rank_apply_1_bucket_vs_raw_zadd", rates["1_bucket"], "totals/s", raw_zadd_per_s, digits=0,
                     **detail),
            measured("rank_apply_sharded_vs_raw_zadd", rates["sharded"], "totals/s", raw_zadd_per_s, digits=0,
                     **detail, splits_included=True, slowest_batch_ms=round(self.slowest_batch_ms, 1),
                     mover_left_after_load_s=round(self.drain_s, 2)),
        ]  # fmt: skip

    async def shard_cpu_figure(self) -> Figure:
        """`redis_rank_cpu_us_per_score`: the primaries' main-thread CPU per user applied to
        the sharded board (each user once, batches of 1,000, `WAIT`, splits and movers
        included); the replicas' beside it in `detail`."""
        return Figure(
            "redis_rank_cpu_us_per_score",
            self.shard_cpu_us.get("primaries", 0.0),
            "µs",
            detail={
                "replicas_us_per_score": self.shard_cpu_us.get("replicas"),
                "users": self.users,
                "buckets": len(await self.sharded.buckets(self.bn)),
                "shards": len(self.shard_urls),
                "wait_replicas": self.wait_replicas,
                "batch": 1000,
                "method": "INFO cpu (main thread) of every primary before the sharded load and after its movers "
                "settled, ÷ users applied; the rank index's apply alone, no social index or live hub",
            },
        )

    async def bytes_per_user(self) -> Figure:
        """Redis memory per user of the sharded board: MEMORY USAGE of each of its keys on
        every shard (its sorted sets, the users' hash, the map, …) ÷ users; the baseline is
        the plain sorted set's MEMORY USAGE ÷ users."""
        import redis.asyncio as aioredis

        ours = 0
        keys = 0
        by_kind: dict[str, int] = {}
        for url in self.shard_urls:
            client = aioredis.Redis.from_url(url)
            try:
                async for k in client.scan_iter(match=names.board_keys_pattern(self.bn.name), count=1000):
                    used = int(await client.memory_usage(k, samples=0) or 0)
                    ours += used
                    keys += 1
                    kind = _kind(k.decode() if isinstance(k, bytes) else str(k))
                    by_kind[kind] = by_kind.get(kind, 0) + used
            finally:
                await client.aclose()
        plain = int(await self.raw.memory_usage(self.plain_key, samples=0) or 0)
        return measured(
            "redis_bytes_per_user",
            ours / self.users,
            "bytes",
            plain / self.users,
            digits=1,
            users=self.users,
            keys=keys,
            method="MEMORY USAGE (SAMPLES 0) of every key of the sharded board, all shards, ÷ users",
            baseline_method="MEMORY USAGE of one plain sorted set user → total",
            per_user_by_key={k: round(v / self.users, 1) for k, v in sorted(by_kind.items())},
            info_used_memory_delta_per_user=round(self.info_delta["sharded"] / self.users, 1),
            info_used_memory_delta_per_user_1_bucket=round(self.info_delta["1_bucket"] / self.users, 1),
        )

    async def close(self) -> None:
        await self.raw.unlink(self.plain_key)  # UNLINK: freeing millions of members must not block the server
        await self.single.drop(self.b1)
        await self.sharded.drop(self.bn)
        await self.single.close()
        await self.sharded.close()
        await self.raw.aclose()


async def used_memory(urls: Sequence[str]) -> int:
    import redis.asyncio as aioredis

    total = 0
    for url in urls:
        client = aioredis.Redis.from_url(url)
        try:
            total += int((await client.info("memory"))["used_memory"])
        finally:
            await client.aclose()
    return total


def _kind(key: str) -> str:
    """What a key of a board holds, from its name (podium.plumbing.names): 'bucket sets', 'users', …"""
    part = key.split("}:", 1)[-1].split(":")[0]
    return {"bucket": "bucket sets", "users": "users hash"}.get(part, part)
