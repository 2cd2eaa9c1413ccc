"""Many reads at once, but not too many: a request or batch about thousands of users must
not open more connections than a client's pool holds (redis-py's is 100 by default)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

AT_ONCE = 20  # a sharded rank read holds up to two connections of a shard at once


async def gather(calls: Iterable[Callable[[], Awaitable[T]]], at_once: int = AT_ONCE) -> list[T]:
    """Run every call, at most `at_once` in flight; their results in order."""
    gate = asyncio.Semaphore(at_once)

    async def run(call: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await call()

    return list(await asyncio.gather(*(run(c) for c in calls)))
