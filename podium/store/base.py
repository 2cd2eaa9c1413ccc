"""The store port. It holds every board and every user's total with the version and
log position that produced it, and remembers applied idempotency keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from podium.domain.boards import Board
from podium.domain.totals import Total

UserKey = tuple[str, str]  # (board, user_id)
IdempotencyKey = tuple[str, str]  # (board, key)


class Store(Protocol):
    async def create_board(self, board: Board) -> tuple[Board, bool]:
        """Create `board` unless it exists; returns the stored board and whether it was created."""
        ...

    async def get_board(self, name: str) -> Board | None: ...

    async def load_totals(self, users: Sequence[UserKey]) -> dict[UserKey, Total]:
        """The current totals (tombstones included) of the given users."""
        ...

    async def applied_keys(self, keys: Sequence[IdempotencyKey], since_us: int) -> set[IdempotencyKey]:
        """Which of `keys` were applied at or after `since_us`."""
        ...

    async def write_totals(self, totals: Sequence[Total], keys: Sequence[tuple[str, str, int]]) -> None:
        """Durably write totals and the idempotency keys (board, key, applied_at_us), atomically."""
        ...

    async def forget_keys(self, before_us: int) -> int:
        """Drop idempotency keys applied before `before_us`; returns how many."""
        ...

    async def close(self) -> None: ...
