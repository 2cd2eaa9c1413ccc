"""Waiters in the rank-worker's own process (the embedded profile, `podium serve`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.index.base import RankIndex
from podium.visibility.base import covers


class LocalVisibility:
    """In-process waiters, woken by the rank-worker running in the same process."""

    def __init__(self, index: RankIndex) -> None:
        self._index = index
        self._waiters: dict[tuple[str, str], list[tuple[LogPosition, asyncio.Future[None]]]] = {}

    async def wait(
        self, board: Board, user_id: str, position: LogPosition, timeout_s: float, *, ask_every_s: float | None = None
    ) -> bool:
        """True once this process's rank-worker has applied the user's total from `position`
        (or later), or the index shows it; `ask_every_s`: also ask the index that often, for
        totals another process's rank-worker applies."""
        user = (board.name, user_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        future: asyncio.Future[None] = loop.create_future()
        self._waiters.setdefault(user, []).append((position, future))
        try:
            # Registered first, then checked: an apply in between still wakes us.
            while not covers(await self._index.position(board, user_id), position):
                left_s = deadline - loop.time()
                if left_s <= 0:
                    return False
                try:
                    await asyncio.wait_for(asyncio.shield(future), min(left_s, ask_every_s or left_s))
                    return True
                except TimeoutError:
                    continue
            return True
        finally:
            waiters = self._waiters.get(user, [])
            waiters[:] = [w for w in waiters if w[1] is not future]
            if not waiters:
                self._waiters.pop(user, None)

    def applied(self, totals: Sequence[Total]) -> None:
        for t in totals:
            self.reached(t.board, t.user_id, t.position)

    def reached(self, board: str, user_id: str, position: LogPosition) -> None:
        """The index holds the user's total from `position`: wake whoever waits for it or earlier."""
        for wanted, future in self._waiters.get((board, user_id), ()):
            if not future.done() and covers(position, wanted):
                future.set_result(None)
