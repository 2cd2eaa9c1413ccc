"""`wait=true` across processes on a real Redis: the api's waiter is woken by what another
process's rank-worker publishes, without asking the index (it is never asked again here
within the test), and still answered from the index for what was applied before it waited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.index.memory import MemoryRankIndex
from podium.visibility.redis import RedisVisibility

BOARD = Board("vis")
NEVER_S = 60.0  # between a waiter's asks of the index: longer than any test here


def total(offset: int, user: str = "u") -> Total:
    return Total(BOARD.name, user, 10, 1, 1, LogPosition(0, offset))


@pytest.fixture
async def two(redis_pair: tuple[str, str]) -> AsyncIterator[tuple[RedisVisibility, RedisVisibility, MemoryRankIndex]]:
    """An api process's visibility and a rank-worker process's, each with its own client."""
    index = MemoryRankIndex()
    api = RedisVisibility(index, aioredis.Redis.from_url(redis_pair[0]), ask_every_s=NEVER_S)
    worker = RedisVisibility(index, aioredis.Redis.from_url(redis_pair[0]), ask_every_s=NEVER_S)
    try:
        yield api, worker, index
    finally:
        await api.close()
        await worker.close()


async def test_another_processs_apply_wakes_the_waiter(
    two: tuple[RedisVisibility, RedisVisibility, MemoryRankIndex],
) -> None:
    api, worker, _ = two
    waiting = asyncio.create_task(api.wait(BOARD, "u", LogPosition(0, 5), timeout_s=30))
    await asyncio.sleep(0.2)  # subscribed by now
    worker.applied([total(4), total(9, "other")])  # older than the one waited for, and someone else
    await asyncio.sleep(0.2)
    assert not waiting.done()
    started = time.monotonic()
    worker.applied([total(5)])
    assert await asyncio.wait_for(waiting, 5) is True
    assert time.monotonic() - started < 1.0  # pushed: the index is not asked for a minute


async def test_applied_before_the_wait_is_answered_from_the_index(
    two: tuple[RedisVisibility, RedisVisibility, MemoryRankIndex],
) -> None:
    api, _, index = two
    await index.apply(BOARD, [total(7)])  # its publish, if any, came before anyone listened
    started = time.monotonic()
    assert await api.wait(BOARD, "u", LogPosition(0, 7), timeout_s=30) is True
    assert time.monotonic() - started < 5.0


async def test_a_lost_publish_is_found_by_asking_the_index(redis_pair: tuple[str, str]) -> None:
    index = MemoryRankIndex()
    api = RedisVisibility(index, aioredis.Redis.from_url(redis_pair[0]), ask_every_s=0.1)
    try:
        waiting = asyncio.create_task(api.wait(BOARD, "u", LogPosition(0, 3), timeout_s=30))
        await asyncio.sleep(0.2)
        await index.apply(BOARD, [total(3)])  # applied, never published
        assert await asyncio.wait_for(waiting, 5) is True
    finally:
        await api.close()


async def test_nothing_applied_answers_false_at_the_timeout(
    two: tuple[RedisVisibility, RedisVisibility, MemoryRankIndex],
) -> None:
    api, worker, _ = two
    worker.applied([total(1)])
    assert await api.wait(BOARD, "u", LogPosition(0, 5), timeout_s=0.3) is False
