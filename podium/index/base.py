"""The rank index port. It holds a copy of the store's totals in rank order and
applies a total only if it is newer than the copy it has (versions), so the
change feed's duplicates, replays and reordering are harmless."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total


@dataclass(frozen=True, slots=True)
class Entry:
    rank: int
    user_id: str
    score: int

    def to_json(self) -> dict[str, int | str]:
        return {"rank": self.rank, "user_id": self.user_id, "score": self.score}


class RankIndex(Protocol):
    async def apply(self, board: Board, totals: Sequence[Total]) -> list[Total]:
        """Apply each total that is newer than the one held; returns those applied."""
        ...

    async def entry(self, board: Board, user_id: str) -> Entry | None:
        """The user's rank and score; None if the user is not ranked."""
        ...

    async def page(self, board: Board, first_rank: int, count: int) -> list[Entry]:
        """Up to `count` entries from rank `first_rank` (1-based) on."""
        ...

    async def count(self, board: Board) -> int:
        """How many users are ranked."""
        ...

    async def position(self, board: Board, user_id: str) -> LogPosition | None:
        """The log position of the newest total applied for the user (removals included)."""
        ...

    async def close(self) -> None: ...
