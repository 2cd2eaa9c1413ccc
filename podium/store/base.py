"""The store port. It holds every board and every user's total with the version and
log position that produced it, and remembers applied idempotency keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total

UserKey = tuple[str, str]  # (board, user_id)
IdempotencyKey = tuple[str, str]  # (board, key)


@dataclass(frozen=True, slots=True)
class AppliedKey:
    """An idempotency key, when it was applied, and the log record that applied it.

    The position tells a redelivery of that very record (not a duplicate: it
    must still be applied if its total was not written) from a client retry,
    which arrives as another record. So a store that cannot write keys and
    totals atomically writes the keys first, and a crash in between is safe.
    """

    board: str
    key: str
    applied_at_us: int
    position: LogPosition


class Store(Protocol):
    async def create_board(self, board: Board) -> tuple[Board, bool]:
        """Create `board` unless it exists; returns the stored board and whether it was created."""
        ...

    async def get_board(self, name: str) -> Board | None: ...

    async def update_board(self, board: Board) -> None:
        """Store the board's settings (its mutable ones changed)."""
        ...

    async def delete_board(self, names: Sequence[str]) -> None:
        """Delete these boards (a board and its windows' periods) and every total on them."""
        ...

    async def user_boards(self, user_id: str) -> list[str]:
        """Every board the user has a total on (tombstones too), sorted."""
        ...

    async def load_totals(self, users: Sequence[UserKey]) -> dict[UserKey, Total]:
        """The current totals (tombstones included) of the given users."""
        ...

    async def applied_keys(self, keys: Sequence[IdempotencyKey], since_us: int) -> dict[IdempotencyKey, LogPosition]:
        """Which of `keys` were applied at or after `since_us`, and by which log record."""
        ...

    async def write_totals(self, totals: Sequence[Total], keys: Sequence[AppliedKey]) -> None:
        """Durably write the idempotency keys, then the totals (see AppliedKey)."""
        ...

    async def forget_keys(self, before_us: int) -> int:
        """Drop idempotency keys applied before `before_us`; returns how many."""
        ...

    async def board_names(self) -> list[str]:
        """Every board's name (a rebuild of all boards)."""
        ...

    async def boards(self) -> list[Board]:
        """Every board with its settings, by name: one read of the boards table, where a
        `get_board` a name would be one read a board (what the webhook loop lists)."""
        ...

    async def count_totals(self, board: str) -> int:
        """How many totals (tombstones included) the board holds."""
        ...

    async def has_totals(self, board: str) -> bool:
        """Whether the board holds any total (tombstones included), in one read: most ended
        periods the webhook loop looks at were never played."""
        ...

    def totals_of(self, board: str, chunk_size: int) -> AsyncIterator[list[Total]]:
        """Every total of the board (tombstones included), `chunk_size` at a time, never all
        in memory at once: what a rebuild refills the rank index from."""
        ...

    # The social graph: each user's friend list (directed: the users they follow).
    async def friends(self, user_id: str) -> list[str]:
        """The user's friend list, sorted (empty if they never set one)."""
        ...

    async def set_friends(self, user_id: str, friends: Sequence[str]) -> None:
        """Replace the user's friend list with `friends`, in one write."""
        ...

    async def add_friend(self, user_id: str, friend_id: str) -> None: ...

    async def remove_friend(self, user_id: str, friend_id: str) -> None: ...

    def friend_lists(self) -> AsyncIterator[tuple[str, list[str]]]:
        """Every user's non-empty friend list: what the social index is rebuilt from."""
        ...

    async def close(self) -> None: ...


async def board_totals(store: Store, board: str, chunk_size: int = 5000) -> list[Total]:
    """Every total of one board, tombstones included, all in memory: what the reconciler
    compares (a board it checks whole is small; a big one it samples)."""
    return [t async for chunk in store.totals_of(board, chunk_size) for t in chunk]
