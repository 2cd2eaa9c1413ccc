"""`wait=true` in a process that runs a rank-worker beside its api: woken by that worker,
and still answered when another process's worker applied the total (asked of the index)."""

from __future__ import annotations

import asyncio
import time

from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.index.memory import MemoryRankIndex
from podium.visibility.polling import BESIDE_A_WORKER_PAUSE_S, PollingVisibility

BOARD = Board("b")


def total(offset: int) -> Total:
    return Total(BOARD.name, "u", 10, 1, 1, LogPosition(0, offset))


async def test_this_processs_worker_wakes_the_waiter_without_the_index() -> None:
    visibility = PollingVisibility(MemoryRankIndex(), beside_a_worker=True)  # the index never shows it
    waiting = asyncio.create_task(visibility.wait(BOARD, "u", LogPosition(0, 5), timeout_s=10))
    await asyncio.sleep(0.01)
    visibility.applied([total(4)])  # older than the one waited for: no answer yet
    await asyncio.sleep(0.01)
    assert not waiting.done()
    started = time.monotonic()
    visibility.applied([total(5)])
    assert await waiting is True
    assert time.monotonic() - started < 5


async def test_another_processs_worker_is_seen_by_asking_the_index() -> None:
    index = MemoryRankIndex()
    visibility = PollingVisibility(index, beside_a_worker=True)
    waiting = asyncio.create_task(visibility.wait(BOARD, "u", LogPosition(0, 5), timeout_s=10))
    await asyncio.sleep(0.01)
    await index.apply(BOARD, [total(7)])  # applied elsewhere: no wake-up here
    assert await asyncio.wait_for(waiting, 10 * BESIDE_A_WORKER_PAUSE_S + 5) is True


async def test_nothing_applied_answers_false_at_the_timeout() -> None:
    for beside in (True, False):
        visibility = PollingVisibility(MemoryRankIndex(), beside_a_worker=beside)
        assert await visibility.wait(BOARD, "u", LogPosition(0, 5), timeout_s=0.12) is False
