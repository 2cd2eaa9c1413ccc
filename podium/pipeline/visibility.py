"""When is a submission visible to reads? (the `wait=true` promise)

A submission is visible once the rank index holds a total for its user produced
by its log record or a later one: every applied event writes a new version
carrying its log position, even when the total itself did not change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.index.base import RankIndex


def covers(applied: LogPosition | None, wanted: LogPosition) -> bool:
    return applied is not None and applied.partition == wanted.partition and applied.offset >= wanted.offset


class Visibility(Protocol):
    async def wait(self, board: Board, user_id: str, position: LogPosition, timeout_s: float) -> bool:
        """True once the user's total from `position` (or later) is in the rank index."""
        ...

    def applied(self, totals: Sequence[Total]) -> None:
        """Called by the rank-worker after the index has applied `totals`."""
        ...


class LocalVisibility:
    """In-process waiters, woken by the rank-worker running in the same process."""

    def __init__(self, index: RankIndex) -> None:
        self._index = index
        self._waiters: dict[tuple[str, str], list[tuple[LogPosition, asyncio.Future[None]]]] = {}

    async def wait(self, board: Board, user_id: str, position: LogPosition, timeout_s: float) -> bool:
        user = (board.name, user_id)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(user, []).append((position, future))
        try:
            # Registered first, then checked: an apply in between still wakes us.
            if covers(await self._index.position(board, user_id), position):
                return True
            await asyncio.wait_for(asyncio.shield(future), timeout_s)
            return True
        except TimeoutError:
            return False
        finally:
            waiters = self._waiters.get(user, [])
            waiters[:] = [w for w in waiters if w[1] is not future]
            if not waiters:
                self._waiters.pop(user, None)

    def applied(self, totals: Sequence[Total]) -> None:
        for t in totals:
            for wanted, future in self._waiters.get((t.board, t.user_id), ()):
                if not future.done() and covers(t.position, wanted):
                    future.set_result(None)


class PollingVisibility:
    """For an api process apart from the rank-worker: ask the index until it covers
    the position (2 ms between asks at first, then 10 ms)."""

    def __init__(self, index: RankIndex) -> None:
        self._index = index

    async def wait(self, board: Board, user_id: str, position: LogPosition, timeout_s: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        pause_s = 0.002
        while True:
            if covers(await self._index.position(board, user_id), position):
                return True
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(min(pause_s, max(0.0, deadline - loop.time())))
            pause_s = min(pause_s * 2, 0.01)

    def applied(self, totals: Sequence[Total]) -> None:
        return None
