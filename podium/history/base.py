"""The rank history port. A point is keyed by the total's version, which grows by one with
every event applied for the user: a change delivered twice writes the same key twice, one
point. Each adapter keeps at least `points` per user and board (trimming the older ones now
and then, not on every write: see `due_for_trim`), and a read answers at most `points`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Point:
    """The user's total on `board` changed at `at_us` (the submission that changed it) to
    `score`, and its rank right after was `rank`; `version` is the total's."""

    board: str  # the stored board: a board, or one period of a window (domain/windows.py)
    user_id: str
    at_us: int
    version: int
    score: int
    rank: int


class RankHistory(Protocol):
    async def record(self, points: Sequence[Point]) -> None:
        """Keep the points (one batch of the rank-worker's); a point kept before is kept once."""
        ...

    async def points(
        self, board: str, user_id: str, *, from_us: int | None, to_us: int | None, limit: int
    ) -> list[Point]:
        """Up to `limit` of the user's points on the stored board with `from_us <= at_us <=
        to_us` (None: unbounded), newest first."""
        ...

    async def forget(self, user_id: str, boards: Sequence[str]) -> None:
        """Drop every point of the user on these stored boards (a privacy delete)."""
        ...

    async def forget_users(self, board: str, user_ids: Sequence[str]) -> None:
        """Drop every point of these users on the stored board (the board is deleted, or its
        period expired: the caller names the users with a total there, a chunk at a time)."""
        ...

    async def close(self) -> None: ...


def due_for_trim(version: int, points: int) -> bool:
    """Whether a point of this version trims its user's older points: once every `points`
    versions, so a user keeps between `points` and 2 × `points` and the trimming costs one
    statement per `points` writes, not one per write (issue 19: CPU per score)."""
    return points > 0 and version % points == 0
