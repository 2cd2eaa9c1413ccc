"""An api process apart from the rank-worker: it asks the rank index."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.index.base import RankIndex
from podium.visibility.base import covers
from podium.visibility.local import LocalVisibility

# Between asks when a rank-worker runs in this process too: most waiters are woken by it;
# the asks are for the partitions another process's rank-worker applies.
BESIDE_A_WORKER_PAUSE_S = 0.05


class PollingVisibility:
    """For an api process apart from the rank-worker: ask the index until it covers
    the position (2 ms between asks at first, then 10 ms).

    Beside a rank-worker in the same process (`podium serve`, the bench's e2e), that worker
    wakes its waiters as soon as it has applied their totals, and the asks slow to one each
    50 ms, for what other processes' workers apply: at 50 submissions a second and half a
    second to visible, the 10 ms asks were 2,500 index reads a second in the process that
    also runs the pipeline's workers."""

    def __init__(self, index: RankIndex, *, beside_a_worker: bool = False) -> None:
        self._index = index
        self._local = LocalVisibility(index) if beside_a_worker else None

    async def wait(self, board: Board, user_id: str, position: LogPosition, timeout_s: float) -> bool:
        if self._local is not None:
            return await self._local.wait(board, user_id, position, timeout_s, ask_every_s=BESIDE_A_WORKER_PAUSE_S)
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
        if self._local is not None:
            self._local.applied(totals)

    async def close(self) -> None:
        """Nothing of its own to close: the index is its owner's."""
