"""The cohort store port: who is in which cohort of a board (domain/cohorts.py).

A user is placed by one conditional write in the store (a SQLite transaction, a Cassandra
lightweight transaction), never by a read and a write apart: of two db-workers placing the
last user of a cohort, one wins the seat and the other is placed in the next cohort, so a
cohort never holds more than its size, and each fills before the next takes anyone.
Placing is idempotent: a user placed before is answered its cohort, so a redelivered or
retried score never places anyone twice.

A user removed from the board gives its seat up (`free`), and the next new user takes it:
the first cohort with room is the lowest one with a free seat, so the cohorts before the
last stay full (exactly the size), however many users leave."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class CohortStore(Protocol):
    async def place(self, board: str, user_id: str, size: int) -> int:
        """The user's cohort (1-based) on the board: the one it was placed in before, or else
        the first with fewer than `size` members, which it now joins."""
        ...

    async def place_all(self, board: str, user_ids: Sequence[str], size: int) -> dict[str, int]:
        """`place` each user, in the order given (a db-worker's batch): each user's cohort."""
        ...

    async def free(self, board: str, user_id: str) -> int | None:
        """Give up the user's seat (it was removed from the board); the cohort it left (None:
        it held none). Idempotent: freeing again, or a user never placed, does nothing."""
        ...

    async def cohort_of(self, board: str, user_id: str) -> int | None:
        """The user's cohort (None: not placed)."""
        ...

    async def members(self, board: str, cohort: int) -> list[str]:
        """The cohort's users by seat: in the order they were placed, but for a seat given up
        and taken again by a later user (empty: no such cohort yet)."""
        ...

    async def drop(self, board: str) -> None:
        """Forget every cohort of the board (it is deleted: made again, it starts afresh)."""
        ...

    async def close(self) -> None: ...
