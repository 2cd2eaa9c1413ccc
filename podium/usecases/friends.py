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
from dataclasses import dataclass
from typing import Any

from podium.domain.boards import Board
from podium.errors import Conflict, InvalidInput
from podium.index.base import Entry, details_json
from podium.social.base import FriendEntry, SocialIndex
from podium.store.base import Store
from podium.usecases.standings import Standings

LOCK_STRIPES = 64


class TooManyFriends(Conflict):
    code = "too_many_friends"


@dataclass(frozen=True, slots=True)
class FriendsBoardEntry:
    rank: int  # among the user and their friends, 1-based, under the board's tie policy
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
    def __init__(self, store: Store, social: SocialIndex, standings: Standings, *, max_friends: int) -> None:
        self._store = store
        self._social = social
        self._standings = standings
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
        """The best `count` of the user and their friends, in the social index's order, each
        with its global rank (none for a user banned since the social index read: the rank
        index gives it only its own view). Both ranks follow the board's tie policy."""
        listed = await self._social.friends_board(board, user_id, count)
        found = await self._standings.entries(board, [e.user_id for e in listed])
        rows: list[tuple[FriendEntry, Entry | None]] = [
            (e, g if g is not None and not g.hidden else None) for e, g in zip(listed, found, strict=True)
        ]
        own = await self._standings.entry(board, user_id)
        if own is not None and own.hidden:
            rows = (await self._seen_by_banned(board, own, rows))[:count]
        # Among themselves, by the same rule as the whole board; a friend without an entry has no subscore.
        places = self._standings.among(board, [(e.score, g.subscore if g is not None else 0) for e, g in rows])
        return [
            FriendsBoardEntry(
                place,
                e.user_id,
                e.score,
                g.rank if g is not None else None,
                g.display_name if g is not None else "",
                g.metadata if g is not None else "",
            )
            for place, (e, g) in zip(places, rows, strict=True)
        ]

    async def _seen_by_banned(
        self, board: Board, own: Entry, rows: list[tuple[FriendEntry, Entry | None]]
    ) -> list[tuple[FriendEntry, Entry | None]]:
        """A banned user's own view: itself where it would be, its friends' global ranks as if
        it were still on the board (the social index leaves it out of its own board)."""
        assert own.key is not None, "every index gives its entries' keys"
        ranked = [g for _, g in rows if g is not None]
        seen = iter(await self._standings.seen_by(board, own, ranked))
        shifted = [(e, next(seen) if g is not None else None) for e, g in rows]
        behind = (i for i, (_, g) in enumerate(shifted) if g is None or (g.key is not None and g.key > own.key))
        at = next(behind, len(rows))
        return [*shifted[:at], (FriendEntry(0, user_id=own.user_id, score=own.score), own), *shifted[at:]]
