"""The tournament store port. Every count it keeps is decided by a conditional write in the
store (a SQLite transaction, a Cassandra lightweight transaction), never by a read and a
write apart: of two api processes taking the last place, or counting one attempt, one wins
and the other is told.

Rows are written for one period and read only while it is active, so each is written with
`expires_at_us` (the period's end plus PODIUM_TOURNAMENT_ROWS_KEPT_S; None: kept until the
board is deleted): Cassandra lets them expire (a TTL), SQLite deletes them in
`forget_expired`, run by the embedded housekeeping. A period's results are read from the
totals, never from these rows."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class Joined(StrEnum):
    JOINED = "joined"  # took a place now
    ALREADY = "already"  # held one before
    FULL = "full"  # every place is taken


class Attempt(StrEnum):
    COUNTED = "counted"  # a new attempt, counted now
    REPEATED = "repeated"  # the same attempt again (a retried idempotency key): counted before
    OVER = "over"  # the user made max_attempts others already: nothing counted


class TournamentStore(Protocol):
    async def join(
        self, board: str, period: str, user_id: str, max_players: int | None, *, expires_at_us: int | None = None
    ) -> Joined:
        """Take a place in the period for the user, unless `max_players` hold one already."""
        ...

    async def leave(self, board: str, period: str, user_id: str) -> bool:
        """Give the user's place up (False: it held none)."""
        ...

    async def has_joined(self, board: str, period: str, user_id: str) -> bool: ...

    async def players(self, board: str, period: str) -> int:
        """How many hold a place in the period."""
        ...

    async def attempt(
        self,
        board: str,
        period: str,
        user_id: str,
        attempt_id: str,
        max_attempts: int,
        *,
        expires_at_us: int | None = None,
    ) -> Attempt:
        """Count attempt `attempt_id` of the user in the period, unless it was counted before
        (a retry of the same attempt counts once) or the user made `max_attempts` others."""
        ...

    async def forget_attempt(self, board: str, period: str, user_id: str, attempt_id: str) -> None:
        """Uncount an attempt counted by a request that was then refused as a whole."""
        ...

    async def drop(self, board: str) -> None:
        """Forget every place and attempt of the board, in every period (it is deleted: made
        again under the name, it starts with no players and no attempts)."""
        ...

    async def forget_expired(self, now_us: int) -> int:
        """Delete the rows that expired by `now_us`; how many (0 where the store expires them itself)."""
        ...

    async def close(self) -> None: ...
