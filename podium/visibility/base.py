"""The port: when is a submission visible to reads? (the `wait=true` promise)"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total


def covers(applied: LogPosition | None, wanted: LogPosition) -> bool:
    return applied is not None and applied.partition == wanted.partition and applied.offset >= wanted.offset


class Visibility(Protocol):
    async def wait(self, board: Board, user_id: str, position: LogPosition, timeout_s: float) -> bool:
        """True once the user's total from `position` (or later) is in the rank index."""
        ...

    def applied(self, totals: Sequence[Total]) -> None:
        """Called by the rank-worker after the index has applied `totals`."""
        ...
