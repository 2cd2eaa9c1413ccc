from __future__ import annotations

import asyncio

import pytest

from podium.plumbing.together import together


async def test_answers_in_order() -> None:
    async def value(v: int, delay: float) -> int:
        await asyncio.sleep(delay)
        return v

    assert await together(value(1, 0.02), value(2, 0.0), value(3, 0.01)) == (1, 2, 3)


async def test_a_failure_cancels_the_others_before_it_is_raised() -> None:
    finished: list[str] = []
    cancelled: list[str] = []

    async def slow_write() -> None:
        try:
            await asyncio.sleep(1)
            finished.append("slow")
        except asyncio.CancelledError:
            cancelled.append("slow")
            raise

    async def failing() -> None:
        await asyncio.sleep(0.01)
        raise ConnectionError("cut")

    with pytest.raises(ConnectionError):
        await together(slow_write(), failing())
    assert cancelled == ["slow"]  # already ended when the failure reached the caller
    await asyncio.sleep(1.1)
    assert finished == []


async def test_cancelling_the_caller_cancels_every_write() -> None:
    cancelled: list[int] = []

    async def write(i: int) -> None:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.append(i)
            raise

    caller = asyncio.create_task(together(write(1), write(2)))
    await asyncio.sleep(0.01)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert sorted(cancelled) == [1, 2]
