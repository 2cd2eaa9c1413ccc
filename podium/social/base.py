"""The social index port: a copy of the store's friend lists, with the reverse edges
(followers), and each user's precomputed friends board on every board.

Friendship is directed: a user's list is the users they follow, and their friends board
on a board is themselves and the users on their list who hold a total there. When a
user's total changes, `apply` updates their entry in each follower's friends board
(fan-out on write); their entry in their own is theirs at read time. A user with more followers than the fan-out cap is
"heavy": their entry is kept in no follower's board, and `friends_board` reads their
total at query time instead (fan-out on read), so one write never costs more than the
cap. Totals carry versions and apply only if newer, as in the rank index, so the change
feed's duplicates and reordering are harmless here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from podium.domain.boards import Board
from podium.domain.totals import Total


@dataclass(frozen=True, slots=True)
class FriendEntry:
    """A user on a friends board: their place among the board's users (1-based) and total."""

    rank: int
    user_id: str
    score: int


class SocialIndex(Protocol):
    async def friends(self, user_id: str) -> list[str]:
        """The user's friend list as the index holds it, sorted."""
        ...

    async def followers(self, user_id: str) -> list[str]:
        """The users who have `user_id` on their list, sorted."""
        ...

    async def replace_friends(self, user_id: str, friends: Sequence[str]) -> None:
        """Make the user's list exactly `friends` (the store's), and update what depends on
        it: the followers of added and removed users, who is heavy, and the user's friends
        boards on every board (entries of added friends in, of removed ones out)."""
        ...

    async def apply(self, board: Board, totals: Sequence[Total]) -> list[Total]:
        """Apply each total newer than the one held and fan it out; returns those applied."""
        ...

    async def friends_board(self, board: Board, user_id: str, count: int) -> list[FriendEntry]:
        """The best `count` of the user and their friends on `board`, in rank order."""
        ...

    async def reset_board(self, board: Board, user_id: str) -> None:
        """Recompute the user's friends board on `board` from the friend list and totals the
        index holds, dropping whatever else it held: what the reconciler repairs with."""
        ...

    async def close(self) -> None: ...
