"""Friend lists and friends boards: the store is the source of truth for the lists,
the social index holds a copy of them and the precomputed boards.

Every change is written to the store first, then the index is given the store's list
as it now stands, so the index converges on the store whatever fails in between (the
request answers 503 and a retry, idempotent, finishes it). Changes to one user's list
are serialised in this process; across several api processes the last index write wins.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from podium.domain.boards import Board
from podium.errors import Conflict, InvalidInput
from podium.index.base import RankIndex, details_json
from podium.social.base import SocialIndex
from podium.store.base import Store

LOCK_STRIPES = 64


class TooManyFriends(Conflict):
    code = "too_many_friends"


@dataclass(frozen=True, slots=True)
class FriendsBoardEntry:
    rank: int  # among the user and their friends, 1-based
    user_id: str
    score: int
    global_rank: int | None  # on the whole board, read at query time (None: not ranked there)
    display_name: str = ""
    metadata: str = ""  # compact JSON text

    def to_json(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "user_id": self.user_id,
            "score": self.score,
            "global_rank": self.global_rank,
            **details_json(self.display_name, self.metadata),
        }


class Friends:
    def __init__(self, store: Store, social: SocialIndex, index: RankIndex, *, max_friends: int) -> None:
        self._store = store
        self._social = social
        self._index = index
        self.max_friends = max_friends
        # Striped locks: a user's changes queue behind each other, in a table that never grows.
        self._locks = [asyncio.Lock() for _ in range(LOCK_STRIPES)]

    def _lock(self, user_id: str) -> asyncio.Lock:
        return self._locks[zlib.crc32(user_id.encode()) % LOCK_STRIPES]

    async def of(self, user_id: str) -> list[str]:
        return await self._store.friends(user_id)

    async def replace(self, user_id: str, friends: Sequence[str]) -> list[str]:
        """Set the user's list; refused whole (nothing changed) if it is not a valid list."""
        if user_id in friends:
            raise InvalidInput("a user cannot be on their own friend list", code="invalid_friend")
        if len(set(friends)) != len(friends):
            raise InvalidInput("friends must not repeat a user", code="duplicate_friend")
        if len(friends) > self.max_friends:
            raise InvalidInput(f"a friend list holds at most {self.max_friends} users", code="too_many_friends")
        async with self._lock(user_id):
            await self._store.set_friends(user_id, friends)
            return await self._sync(user_id)

    async def add(self, user_id: str, friend_id: str) -> list[str]:
        if friend_id == user_id:
            raise InvalidInput("a user cannot be on their own friend list", code="invalid_friend")
        async with self._lock(user_id):
            current = await self._store.friends(user_id)
            if friend_id not in current:
                if len(current) >= self.max_friends:
                    raise TooManyFriends(f"the friend list of {user_id!r} is full ({self.max_friends} users)")
                await self._store.add_friend(user_id, friend_id)
            return await self._sync(user_id)

    async def remove(self, user_id: str, friend_id: str) -> list[str]:
        async with self._lock(user_id):
            await self._store.remove_friend(user_id, friend_id)
            return await self._sync(user_id)

    async def _sync(self, user_id: str) -> list[str]:
        """Give the social index the store's list as it now stands."""
        stored = await self._store.friends(user_id)
        await self._social.replace_friends(user_id, stored)
        return stored

    async def board(self, board: Board, user_id: str, count: int) -> list[FriendsBoardEntry]:
        """The best `count` of the user and their friends, each with its global rank (none for
        a user banned since the social index read: the rank index gives it only its own view)."""
        entries = await self._social.friends_board(board, user_id, count)
        found = await self._index.entries(board, [e.user_id for e in entries])
        listed = [
            FriendsBoardEntry(
                e.rank,
                e.user_id,
                e.score,
                g.rank if g is not None and not g.hidden else None,
                g.display_name if g is not None else "",
                g.metadata if g is not None else "",
            )
            for e, g in zip(entries, found, strict=True)
        ]
        own = await self._index.entry(board, user_id)
        if own is None or not own.hidden:
            return listed
        # A banned user's own view: itself where it would be, the friends below it one place
        # further down, globally too, as if it were still on the board.
        at = next((i for i, e in enumerate(listed) if e.global_rank is None or e.global_rank >= own.rank), len(listed))
        mine = FriendsBoardEntry(at + 1, user_id, own.score, own.rank, own.display_name, own.metadata)
        below = [
            replace(e, rank=e.rank + 1, global_rank=e.global_rank + 1 if e.global_rank is not None else None)
            for e in listed[at:]
        ]
        return [*listed[:at], mine, *below][:count]
