"""The embedded rank index: per board, a sorted list of rank keys and a dict of totals.

rank = position of the user's key in the sorted list + 1, O(log n); a page is a
slice. It is the reference the distributed index is tested against.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence

from sortedcontainers import SortedList

from podium.domain.boards import Board, Tie
from podium.domain.ordering import SortKey, tie_of, total_key
from podium.domain.totals import LogPosition, Total, is_newer
from podium.index.base import BucketInfo, Entry


def _free(index: _BoardIndex) -> None:
    index.ranked.clear()
    index.totals.clear()


class _BoardIndex:
    __slots__ = ("board", "group_sizes", "groups", "ranked", "totals", "writes")

    def __init__(self, board: Board) -> None:
        self.board = board
        self.ranked: SortedList = SortedList()
        self.totals: dict[str, Total] = {}  # tombstones too: they carry versions
        self.writes: dict[int, int] = {}  # second → totals applied in it (the last few)
        # Dense ties only: the distinct (total, subscore) pairs ranked, and how many users hold each.
        self.groups: SortedList = SortedList()
        self.group_sizes: dict[tuple[int, int], int] = {}

    def key(self, t: Total) -> SortKey:
        return total_key(self.board, t)

    def add(self, t: Total) -> None:
        key = self.key(t)
        self.ranked.add(key)
        if self.board.tie is Tie.DENSE:
            group = tie_of(self.board, key)
            size = self.group_sizes.get(group, 0)
            if size == 0:
                self.groups.add(group)
            self.group_sizes[group] = size + 1

    def discard(self, key: SortKey) -> None:
        self.ranked.remove(key)
        if self.board.tie is Tie.DENSE:
            group = tie_of(self.board, key)
            size = self.group_sizes.pop(group) - 1
            if size:
                self.group_sizes[group] = size
            else:
                self.groups.remove(group)

    def entry(self, rank: int, t: Total, *, hidden: bool = False) -> Entry:
        return Entry(rank, t.user_id, t.total, t.subscore, t.display_name, t.metadata, hidden, self.key(t))


class MemoryRankIndex:
    def __init__(self) -> None:
        self._boards: dict[str, _BoardIndex] = {}

    def apply_now(self, board: Board, totals: Sequence[Total]) -> list[Total]:
        """Synchronous apply, for rebuilds and the async port method."""
        idx = self._board(board)
        applied = []
        for t in totals:
            current = idx.totals.get(t.user_id)
            if not is_newer(t, current):
                continue
            if current is not None and current.ranked:
                idx.discard(idx.key(current))
            idx.totals[t.user_id] = t
            if t.ranked:
                idx.add(t)
            applied.append(t)
        second = int(time.time())
        idx.writes[second] = idx.writes.get(second, 0) + len(applied)
        for old in [s for s in idx.writes if s < second - 5]:
            del idx.writes[old]
        return applied

    def _board(self, board: Board) -> _BoardIndex:
        idx = self._boards.get(board.name)
        if idx is None:
            idx = self._boards[board.name] = _BoardIndex(board)
        return idx

    async def apply(self, board: Board, totals: Sequence[Total]) -> list[Total]:
        return self.apply_now(board, totals)

    async def apply_ranked(self, board: Board, totals: Sequence[Total]) -> tuple[list[Total], dict[str, int]]:
        applied = self.apply_now(board, totals)
        # The rank `entry` gives each applied user, read straight from the sorted keys: the
        # rank-worker asks this for every change, and an Entry built a user only for its rank
        # was a tenth of the embedded rank-worker's time (docs/benchmarks.md).
        idx = self._board(board)
        ranks: dict[str, int] = {}
        for t in applied:
            now = idx.totals.get(t.user_id)
            if not t.removed and now is not None and not now.removed:
                ranks[t.user_id] = idx.ranked.bisect_left(idx.key(now)) + 1
        return applied, ranks

    async def entry(self, board: Board, user_id: str) -> Entry | None:
        idx = self._boards.get(board.name)
        t = idx.totals.get(user_id) if idx is not None else None
        if idx is None or t is None or t.removed:
            return None
        return idx.entry(idx.ranked.bisect_left(idx.key(t)) + 1, t, hidden=t.hidden)

    async def entries(self, board: Board, user_ids: Sequence[str]) -> list[Entry | None]:
        return [await self.entry(board, u) for u in user_ids]

    async def unplaced(self, board: Board, user_ids: Sequence[str]) -> list[Entry | None]:
        idx = self._boards.get(board.name)
        if idx is None:
            return [None] * len(user_ids)
        found = (idx.totals.get(u) for u in user_ids)
        return [None if t is None or t.removed else idx.entry(0, t, hidden=t.hidden) for t in found]

    async def page(self, board: Board, first_rank: int, count: int) -> list[Entry]:
        idx = self._boards.get(board.name)
        if idx is None or count <= 0:
            return []
        start = max(first_rank, 1) - 1
        keys = idx.ranked[start : start + count]
        return [idx.entry(start + i + 1, idx.totals[k[2]]) for i, k in enumerate(keys)]

    async def count_before(self, board: Board, key: SortKey) -> int:
        idx = self._boards.get(board.name)
        return idx.ranked.bisect_left(key) if idx is not None else 0

    async def counts_before(self, board: Board, keys: Sequence[SortKey]) -> list[int]:
        idx = self._boards.get(board.name)
        return [idx.ranked.bisect_left(key) if idx is not None else 0 for key in keys]

    async def groups_before(self, board: Board, key: SortKey) -> int:
        idx = self._boards.get(board.name)
        if idx is None:
            return 0
        return int(idx.groups.bisect_left(tie_of(board, key)))

    async def count(self, board: Board) -> int:
        idx = self._boards.get(board.name)
        return len(idx.ranked) if idx is not None else 0

    async def position(self, board: Board, user_id: str) -> LogPosition | None:
        held = await self.newest(board, user_id)
        return held[0] if held is not None else None

    async def positions(self, board: Board, user_ids: Sequence[str]) -> list[LogPosition | None]:
        return [await self.position(board, u) for u in user_ids]

    async def newest(self, board: Board, user_id: str) -> tuple[LogPosition, int] | None:
        idx = self._boards.get(board.name)
        t = idx.totals.get(user_id) if idx is not None else None
        return (t.position, t.version) if t is not None else None

    async def buckets(self, board: Board) -> list[BucketInfo]:
        idx = self._boards.get(board.name)
        if idx is None:
            return []
        rate = float(idx.writes.get(int(time.time()) - 1, 0))
        return [BucketInfo(0, None, 0, len(idx.ranked), rate)]

    async def repair(self, board: Board, users: Mapping[str, Total | None]) -> None:
        idx = self._board(board)
        # Every key of these users, not only the one their total gives: a stray is drift too.
        for key in [k for k in idx.ranked if k[2] in users]:
            idx.discard(key)
        for user_id, t in users.items():
            if t is None:
                idx.totals.pop(user_id, None)
                continue
            idx.totals[user_id] = t
            if t.ranked:
                idx.add(t)

    async def drop(self, board: Board) -> None:
        gone = self._boards.pop(board.name, None)
        if gone is not None:
            # Freeing a million entries takes a while: in a thread, the event loop gets the
            # GIL back every few milliseconds instead of stalling reads for the whole of it.
            await asyncio.to_thread(_free, gone)

    async def close(self) -> None:
        self._boards.clear()
