"""The embedded social index: dicts of sets, and a sorted list of rank keys per
(board, user) friends board. Rebuilt from the store at start (bootstrap), like the
in-memory rank index; it is the reference the Redis adapter is tested against.

A friends board holds its owner and at most `max_friends` others: a plain list kept sorted
with `bisect` is cheaper there than a SortedList, whose making was most of this index's
time when every score made its user's own board (docs/benchmarks.md)."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence

from podium.domain.boards import Board
from podium.domain.ordering import SortKey, total_key
from podium.domain.totals import Total, is_newer, newest_per_user
from podium.social.base import FriendEntry


class MemorySocialIndex:
    def __init__(self, *, fan_out_cap: int) -> None:
        self._cap = fan_out_cap
        self._friends: dict[str, set[str]] = defaultdict(set)
        self._followers: dict[str, set[str]] = defaultdict(set)
        self._heavy: set[str] = set()
        self._orders: dict[str, Board] = {}
        self._totals: dict[str, dict[str, Total]] = defaultdict(dict)  # board → user → newest (tombstones too)
        self._boards: dict[tuple[str, str], list[SortKey]] = defaultdict(list)  # (board, owner) → rank keys, sorted

    async def friends(self, user_id: str) -> list[str]:
        return sorted(self._friends.get(user_id, ()))

    async def followers(self, user_id: str) -> list[str]:
        return sorted(self._followers.get(user_id, ()))

    async def replace_friends(self, user_id: str, friends: Sequence[str]) -> None:
        self.replace_now(user_id, friends)

    def replace_now(self, user_id: str, friends: Iterable[str]) -> None:
        """Synchronous replace, for the rebuild at start and the async port method."""
        old, new = self._friends[user_id], set(friends) - {user_id}  # on their own board already
        self._friends[user_id] = new
        for gone in old - new:
            self._followers[gone].discard(user_id)
            self._place(gone, [user_id], add=False)
            if gone in self._heavy and len(self._followers[gone]) <= self._cap:
                self._heavy.discard(gone)  # back under the cap: fanned out on write again
                self._place(gone, self._followers[gone], add=True)
        for added in new - old:
            self._followers[added].add(user_id)
            if added in self._heavy:
                continue
            if len(self._followers[added]) > self._cap:
                # Over the cap: out of every follower's board; readers fetch their total.
                self._heavy.add(added)
                self._place(added, self._followers[added], add=False)
            else:
                self._place(added, [user_id], add=True)

    def _place(self, user_id: str, owners: Iterable[str], *, add: bool) -> None:
        """Put the user's live totals into (or take them out of) the owners' friends boards."""
        owners = list(owners)
        for board, totals in self._totals.items():
            t = totals.get(user_id)
            if t is None or not t.ranked:
                continue
            key = total_key(self._orders[board], t)
            for owner in owners:
                if add:
                    bisect.insort(self._boards[(board, owner)], key)
                else:
                    _discard(self._boards[(board, owner)], key)

    async def apply(self, board: Board, totals: Sequence[Total]) -> list[Total]:
        return self.apply_now(board, totals)

    def apply_now(self, board: Board, totals: Sequence[Total]) -> list[Total]:
        self._orders[board.name] = board
        held = self._totals[board.name]
        applied = []
        for t in newest_per_user(totals):
            current = held.get(t.user_id)
            if not is_newer(t, current):
                continue
            held[t.user_id] = t
            owners = [t.user_id]  # a user is always on their own friends board
            if t.user_id not in self._heavy:
                owners += self._followers.get(t.user_id, ())
            old = total_key(board, current) if current is not None and current.ranked else None
            new = total_key(board, t) if t.ranked else None
            for owner in owners:
                entries = self._boards[(board.name, owner)]
                if old is not None:
                    _discard(entries, old)
                if new is not None:
                    bisect.insort(entries, new)
            applied.append(t)
        return applied

    async def friends_board(self, board: Board, user_id: str, count: int) -> list[FriendEntry]:
        held = self._totals.get(board.name, {})
        keys: list[SortKey] = self._boards.get((board.name, user_id), [])[:count]
        for friend in self._friends.get(user_id, set()) & self._heavy:  # fan-out on read
            t = held.get(friend)
            if t is not None and t.ranked:
                keys.append(total_key(board, t))
        keys.sort()
        return [FriendEntry(i + 1, k[2], held[k[2]].total) for i, k in enumerate(keys[:count])]

    async def reset_board(self, board: Board, user_id: str) -> None:
        held = self._totals.get(board.name, {})
        owners = {user_id} | (self._friends.get(user_id, set()) - self._heavy)
        live = [t for u in owners if (t := held.get(u)) is not None and t.ranked]
        self._boards[(board.name, user_id)] = sorted(total_key(board, t) for t in live)

    async def close(self) -> None:
        self._boards.clear()


def _discard(keys: list[SortKey], key: SortKey) -> None:
    at = bisect.bisect_left(keys, key)
    if at < len(keys) and keys[at] == key:
        del keys[at]
