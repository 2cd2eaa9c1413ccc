"""The limits' ports, the same suite over their adapters: in memory and Redis (a local
redis-server). Then what only Redis offers: two api processes' adapters share one limit."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from podium.domain.limits import Rate
from podium.limits.base import RateLimiter, SubmissionCounter
from podium.limits.memory import MemoryRateLimiter, MemorySubmissionCounter
from podium.limits.redis import MAX_BLOCK, RedisRateLimiter, RedisSubmissionCounter, block_of


@pytest.fixture(scope="module")
def limits_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.engines import private_redis

    yield from private_redis(tmp_path_factory.mktemp("limits-redis"))


@pytest.fixture(params=["memory", "redis"])
async def limits(request: pytest.FixtureRequest) -> AsyncIterator[tuple[RateLimiter, SubmissionCounter]]:
    made: tuple[Any, Any]
    if request.param == "redis":
        url = request.getfixturevalue("limits_redis")
        made = RedisRateLimiter(aioredis.Redis.from_url(url)), RedisSubmissionCounter(aioredis.Redis.from_url(url))
    else:
        made = MemoryRateLimiter(), MemorySubmissionCounter()
    try:
        yield made
    finally:
        for each in made:
            await each.close()


def fresh(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"  # the Redis server outlives a test


async def test_a_burst_is_allowed_then_refused_until_the_wait_is_over(
    limits: tuple[RateLimiter, SubmissionCounter],
) -> None:
    limiter, _ = limits
    name, rate = fresh("address:a"), Rate(per_s=5.0, burst=3)
    assert [await limiter.take(name, rate) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait_s = await limiter.take(name, rate)
    assert 0 < wait_s <= 0.2 + 0.01
    assert await limiter.take(fresh("address:b"), rate) == 0.0  # another name, its own allowance
    await asyncio.sleep(wait_s + 0.02)
    assert await limiter.take(name, rate) == 0.0
    assert await limiter.take(name, rate) > 0  # the refused request was not counted: one refill, one take
    assert await limiter.take(name, Rate(per_s=0, burst=1)) == 0.0  # no limit
    # A limit far past any load (the bench's): an interval below a millisecond's precision.
    huge = Rate(per_s=1e9, burst=10**9)
    assert [await limiter.take(fresh("address:c"), huge) for _ in range(3)] == [0.0] * 3


async def test_concurrent_checks_count_as_if_one_after_another(
    limits: tuple[RateLimiter, SubmissionCounter],
) -> None:
    """Requests checked at once (in Redis: in one script call) are counted in the order they
    came, each seeing the ones before it; another name keeps its own allowance."""
    limiter, _ = limits
    name, other, rate = fresh("address:a"), fresh("address:b"), Rate(per_s=5.0, burst=3)
    waits = await asyncio.gather(*(limiter.take(n, rate) for n in [name] * 5 + [other] * 2))
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert all(0 < w <= 0.2 + 0.01 for w in waits[3:5])
    assert waits[5:] == [0.0, 0.0]
    await asyncio.sleep(max(waits) + 0.02)
    again = await asyncio.gather(limiter.take(name, rate), limiter.take(name, rate))
    assert again[0] == 0.0 and again[1] > 0  # the two refused were not counted: one refill, one take


async def test_submissions_past_the_limit_are_refused_and_none_is_counted(
    limits: tuple[RateLimiter, SubmissionCounter],
) -> None:
    _, counter = limits
    board = fresh("arena")
    assert await counter.record(board, {"ann": ["n:1", "n:2"]}, 3, 60.0) == {}
    over = await counter.record(board, {"bob": ["n:3"], "ann": ["n:4", "k:x", "n:5"], "cy": ["n:6"]}, 3, 60.0)
    assert over == {"ann": 1}  # ann's second new id is her fourth
    assert await counter.record(board, {"bob": ["n:7", "n:8", "n:9"]}, 3, 60.0) == {}  # bob's n:3 never counted
    assert await counter.record(board, {"bob": ["n:10"], "ann": ["n:11", "n:12"]}, 3, 60.0) == {"bob": 0, "ann": 1}
    assert await counter.record(fresh("other"), {"ann": ["n:1", "n:2", "n:3"]}, 3, 60.0) == {}  # per board


async def test_a_replayed_id_counts_once_and_the_window_slides(limits: tuple[RateLimiter, SubmissionCounter]) -> None:
    _, counter = limits
    board = fresh("arena")
    assert await counter.record(board, {"ann": ["k:a", "k:a", "k:b"]}, 2, 0.5) == {}
    assert await counter.record(board, {"ann": ["k:b", "k:a"]}, 2, 0.5) == {}  # replays
    assert await counter.record(board, {"ann": ["k:a", "k:c"]}, 2, 0.5) == {"ann": 1}
    await asyncio.sleep(0.6)
    assert await counter.record(board, {"ann": ["k:c", "k:d"]}, 2, 0.5) == {}  # the window moved on


async def test_two_processes_share_one_limit_in_redis(limits_redis: str) -> None:
    """Two api processes: each its own adapter on the same Redis."""
    first = RedisRateLimiter(aioredis.Redis.from_url(limits_redis))
    second = RedisRateLimiter(aioredis.Redis.from_url(limits_redis))
    counters = [RedisSubmissionCounter(aioredis.Redis.from_url(limits_redis)) for _ in range(2)]
    try:
        name, rate = fresh("key:k"), Rate(per_s=1.0, burst=2)
        assert await first.take(name, rate) == 0.0
        assert await second.take(name, rate) == 0.0
        assert await first.take(name, rate) > 0
        assert await second.take(name, rate) > 0
        board = fresh("arena")
        assert await counters[0].record(board, {"ann": ["n:1", "k:a"]}, 3, 60.0) == {}
        assert await counters[1].record(board, {"ann": ["k:a", "n:2", "n:3"]}, 3, 60.0) == {"ann": 2}
    finally:
        for each in (first, second, *counters):
            await each.close()


def test_a_block_is_what_a_lease_allows_and_never_most_of_the_burst() -> None:
    assert block_of(Rate(per_s=20.0, burst=60), 0.05) == 1  # the address limit: request by request
    assert block_of(Rate(per_s=1000.0, burst=2000), 0.05) == 50  # the key limit: 50 ms of it
    assert block_of(Rate(per_s=1000.0, burst=100), 0.05) == 10  # a tenth of the burst
    assert block_of(Rate(per_s=1e9, burst=10**9), 0.05) == MAX_BLOCK


async def test_leased_blocks_let_through_no_more_than_redis_counted(limits_redis: str) -> None:
    """Two api processes leasing blocks of one limit: together they let through the burst
    (at most a block a process short of it), and Redis refuses a third that leases none."""
    leasing = [RedisRateLimiter(aioredis.Redis.from_url(limits_redis), lease_s=1.0) for _ in range(2)]
    plain = RedisRateLimiter(aioredis.Redis.from_url(limits_redis))
    try:
        name, rate = fresh("key:k"), Rate(per_s=10.0, burst=100)  # blocks of 10
        waits = await asyncio.gather(*(leasing[i % 2].take(name, rate) for i in range(300)))
        allowed = sum(1 for w in waits if w == 0.0)
        assert 100 - 2 * 10 <= allowed <= 100 + 2  # + what 10 a second refills meanwhile
        assert all(0 < w <= 0.1 + 0.01 for w in waits if w != 0.0)
        assert await plain.take(name, rate) > 0  # the blocks were counted in Redis
        assert await leasing[0].take(name, rate) > 0  # refused here without asking Redis again
    finally:
        for each in (*leasing, plain):
            await each.close()


async def test_a_leased_block_past_its_time_is_renewed_behind_the_requests(limits_redis: str) -> None:
    """Past its lease, a block's rest is spent only while the next block is being taken:
    the request that finds it over does not wait for Redis, Redis counts a new block, and
    once that is in, the old block's rest is dropped, never carried."""
    limiter = RedisRateLimiter(aioredis.Redis.from_url(limits_redis), lease_s=1.0)
    plain = RedisRateLimiter(aioredis.Redis.from_url(limits_redis))
    try:
        name, rate = fresh("key:k"), Rate(per_s=10.0, burst=100)  # blocks of 10
        assert await limiter.take(name, rate) == 0.0  # a block of 10 counted, 9 left here
        await asyncio.sleep(1.05)  # the lease is over; Redis refilled the 10 meanwhile
        renewed_at = time.monotonic()
        assert await limiter.take(name, rate) == 0.0  # from the old rest (8 left); a new block asked for
        # The new block is in (a loaded machine's round trip can take tens of ms; the lease is
        # 1 s): 10 more counted, the old rest dropped.
        await asyncio.sleep(0.3)
        assert [await limiter.take(name, rate) for _ in range(10)] == [0.0] * 10
        assert await limiter.take(name, rate) == 0.0  # the 11th: a third block (with the rest carried, none)
        # Counted since the refill: 20, so the plain limiter finds 80 left, and what 10 a
        # second refilled since (with the rest carried, 10 counted: 90 left).
        allowed = sum([await plain.take(name, rate) == 0.0 for _ in range(100)])
        assert 80 <= allowed <= 80 + 10 * (time.monotonic() - renewed_at) + 1
    finally:
        for each in (limiter, plain):
            await each.close()
