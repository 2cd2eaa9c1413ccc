"""The one way to read ranks. Every surface that shows a rank (the API's reads, a
submission's answer, the friends board, the live stream and its events, an export) gets
a `Standings`, never the rank index itself, so every rank it shows is numbered by the
same code (podium/usecases/ranks.py) under the board's `tie` and `subscore_order`.

The index numbers users by position (every user its own number); positions stay in
here. What goes in as a position (`page`'s first, `count_before`'s answer: offsets,
cursors, ranges) is a count of users; every Entry that comes out carries a rank.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import replace

from podium.domain.boards import Board, Tie
from podium.domain.ordering import SortKey, tie_ceiling, tie_floor, total_key
from podium.domain.totals import Total, newest_per_user
from podium.index.base import Entry, RankIndex
from podium.plumbing import bounded
from podium.usecases import ranks


class Standings:
    def __init__(self, index: RankIndex) -> None:
        self._index = index

    async def count(self, board: Board) -> int:
        """How many users are ranked (a hidden one is not)."""
        return await self._index.count(board)

    async def count_before(self, board: Board, key: SortKey) -> int:
        """How many ranked users sort before rank key `key`: a position, not a rank."""
        return await self._index.count_before(board, key)

    async def entry(self, board: Board, user_id: str) -> Entry | None:
        """The user's entry; a hidden user's is its own view (the rank it would have)."""
        return await ranks.entry(self._index, board, user_id)

    async def entries(self, board: Board, user_ids: Sequence[str]) -> list[Entry | None]:
        return await ranks.entries(self._index, board, user_ids)

    async def page(self, board: Board, first: int, count: int) -> list[Entry]:
        """Up to `count` users from position `first` (1-based) on, best first."""
        return await ranks.page(self._index, board, first, count)

    async def around(self, board: Board, user_id: str, radius: int) -> list[Entry] | None:
        """The user and up to `radius` users either side (None: the user is not ranked). A
        hidden user sees itself where it would be, and the others as if it were there."""
        own = await self._index.entry(board, user_id)  # its position, before ties renumber it
        if own is None:
            return None
        if not own.hidden:
            first = max(1, own.rank - radius)
            return await self.page(board, first, own.rank + radius - first + 1)
        assert own.key is not None, "every index gives its entries' keys"
        place = await self._index.count_before(board, own.key)  # others ahead of it
        first = max(1, place + 1 - radius)
        others = await self.page(board, first, place - first + 1 + radius)
        [mine] = await ranks.with_ties(self._index, board, [own], neighbours=False)
        shown = await self.seen_by(board, mine, others)
        above = place + 1 - first
        return [*shown[:above], mine, *shown[above:]]

    async def ranked_apart(self, board: Board, user_ids: Sequence[str], viewer: str | None = None) -> list[Entry]:
        """The users ranked among themselves alone (a cohort), best first, under the board's
        tie rule: one lookup of these users (`RankIndex.unplaced`), so the read costs as
        many entries as there are users, never the board's. A hidden user is left out, but
        for its own view (`viewer`)."""
        found = await self._index.unplaced(board, user_ids)
        shown = [e for e in found if e is not None and (not e.hidden or e.user_id == viewer)]
        shown.sort(key=_rank_key)
        places = ranks.among(board, [(e.score, e.subscore) for e in shown])
        return [replace(e, rank=p) for e, p in zip(shown, places, strict=True)]

    def among(self, board: Board, pairs: Sequence[tuple[int, int]]) -> list[int]:
        """Ranks within a list of its own (a friends board) from its members' (total,
        subscore) pairs in rank order: the same rule as the whole board's."""
        return ranks.among(board, pairs)

    async def seen_by(self, board: Board, viewer: Entry, others: Sequence[Entry]) -> list[Entry]:
        """Others' entries (as everyone sees them) as a hidden `viewer` sees them: as if it
        were still on the board, so each one behind it may be one rank further down."""
        if not viewer.hidden:
            return list(others)
        ceiling = tie_ceiling(board, viewer.score, viewer.subscore)
        if board.tie is Tie.UNIQUE:
            assert viewer.key is not None, "every index gives its entries' keys"
            behind = [e.key is not None and e.key > viewer.key for e in others]
        else:
            behind = [tie_floor(board, e.score, e.subscore) >= ceiling for e in others]
        if board.tie is Tie.DENSE and any(behind):
            # Its return adds a rank only if nobody else holds its (total, subscore).
            floor = tie_floor(board, viewer.score, viewer.subscore)
            if await self._index.count_before(board, ceiling) > await self._index.count_before(board, floor):
                return list(others)
        return [replace(e, rank=e.rank + 1) if b else e for e, b in zip(others, behind, strict=True)]

    async def applied(self, board: Board, totals: Sequence[Total], positions: Mapping[str, int]) -> dict[str, int]:
        """The rank each applied user has (its position right after the apply, `positions`),
        for the live stream's changes. Equal totals share one read."""
        if board.tie is Tie.UNIQUE:
            return dict(positions)
        pairs = {t.user_id: (t.total, t.subscore) for t in newest_per_user(totals) if t.user_id in positions}
        rank_of = await ranks.shared_ranks(self._index, board, list(pairs.values()))
        return {user: rank_of[pair] for user, pair in pairs.items()}

    async def rank_among_others(self, board: Board, newest: Total, older: Total) -> int:
        """The rank an older total of a user has among the other users as they stand now, the
        user's own entry (its `newest` total) left out: the rank history's point for a change
        that a newer one overtook before the index was written (the index holds one total a
        user, and ranks are read after a batch)."""
        if board.tie is not Tie.DENSE:  # the batch form's rule, one pair
            return (await self.ranks_among_others(board, [(newest, older)]))[0]
        floor = tie_floor(board, older.total, older.subscore)
        ahead = newest.ranked and total_key(board, newest) < floor  # a hidden or removed user is not counted
        if ahead:  # its pair is one of the groups before only if nobody else holds it
            own_floor = tie_floor(board, newest.total, newest.subscore)
            own_ceiling = tie_ceiling(board, newest.total, newest.subscore)
            holders = await self._index.count_before(board, own_ceiling) - await self._index.count_before(
                board, own_floor
            )
            ahead = holders == 1
        return await self._index.groups_before(board, floor) + 1 - ahead

    async def ranks_among_others(self, board: Board, changes: Sequence[tuple[Total, Total]]) -> list[int]:
        """`rank_among_others` of each (newest, older) pair, the counts read in one call
        (`RankIndex.counts_before`): a batch of returning users brings an overtaken change
        for most of them, and a read each was the rank-worker's largest cost for them. An
        older total is counted at its own key on a board of unique ranks, else at the floor
        of its tie (equals share a rank); the user's own entry is left out when it sorts
        before that key. A board with dense ties counts groups, a read each."""
        if board.tie is Tie.DENSE:
            return await bounded.gather(
                functools.partial(self.rank_among_others, board, newest, older) for newest, older in changes
            )
        unique = board.tie is Tie.UNIQUE
        keys = [
            total_key(board, older) if unique else tie_floor(board, older.total, older.subscore) for _, older in changes
        ]
        counts = await self._index.counts_before(board, keys)
        return [
            n + 1 - (newest.ranked and total_key(board, newest) < key)
            for (newest, _), key, n in zip(changes, keys, counts, strict=True)
        ]


def _rank_key(e: Entry) -> SortKey:
    assert e.key is not None, "every index gives its entries' keys"
    return e.key
