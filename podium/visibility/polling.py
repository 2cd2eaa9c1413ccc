"""An api process apart from the rank-worker: it asks the rank index."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.index.base import RankIndex
from podium.visibility.base import covers


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
