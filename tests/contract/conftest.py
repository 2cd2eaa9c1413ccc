"""Fixtures shared by the contract suites."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from podium.domain.buckets import SplitPolicy
from podium.index.base import RankIndex
from podium.index.memory import MemoryRankIndex
from podium.index.sharded import ShardedRedisRankIndex

IndexFactory = Callable[[], Awaitable[RankIndex]]


@pytest.fixture(params=["memory", "redis", "sharded"])
def make_index(request: pytest.FixtureRequest) -> IndexFactory:
    if request.param == "memory":

        async def memory() -> RankIndex:
            return MemoryRankIndex()

        return memory
    if request.param == "sharded":
        urls = request.getfixturevalue("redis_shards")

        async def sharded() -> RankIndex:
            # Tiny buckets, so that the random histories split them again and again.
            policy = SplitPolicy(max_members=3, max_writes_per_s=1e9)
            return ShardedRedisRankIndex.from_urls(urls, policy=policy, wait_replicas=1, wait_timeout_ms=2000)

        return sharded
    primary_url, _ = request.getfixturevalue("redis_pair")

    async def redis() -> RankIndex:
        # One Redis, never split (no shards configured); WAIT for the replica on every
        # apply, as the rank-worker does.
        policy = SplitPolicy.never()
        return ShardedRedisRankIndex.from_urls([primary_url], policy=policy, wait_replicas=1, wait_timeout_ms=2000)

    return redis
