"""Await several writes at once, as one: when one fails, the others are cancelled and
awaited before the failure is raised. `asyncio.gather` leaves the others running, so a
caller that retries after a failure would race its own orphaned writes (a rank-worker
rewinding while the failed batch's other half still writes, say)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar, overload

_A = TypeVar("_A")
_B = TypeVar("_B")


@overload
async def together(first: Awaitable[_A], second: Awaitable[_B], /) -> tuple[_A, _B]: ...


@overload
async def together(*aws: Awaitable[_A]) -> tuple[_A, ...]: ...


async def together(*aws: Awaitable[Any]) -> tuple[Any, ...]:
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        return tuple(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
