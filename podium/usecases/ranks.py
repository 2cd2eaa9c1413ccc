"""Rank numbers under a board's tie policy, on top of any rank index: the arithmetic
behind podium/usecases/standings.py, which is how every surface reads ranks.

The index numbers users by position (`unique`: 1, 2, 3, 4). For `competition` (1, 2, 2,
4) a user's rank is one more than the users strictly ahead of its (total, subscore);
for `dense` (1, 2, 2, 3), one more than the distinct pairs ahead of it. Both take one
extra index read for the first entry of a run of neighbours; the rest follow from it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import replace

from podium.domain.boards import Board, Tie
from podium.domain.ordering import tie_floor
from podium.index.base import Entry, RankIndex
from podium.plumbing import bounded


def tie_group(board: Board, e: Entry) -> tuple[int, int]:
    return e.score, e.subscore if board.subscore_order is not None else 0


async def shared_rank(index: RankIndex, board: Board, score: int, subscore: int) -> int:
    """The rank a user with this (total, subscore) has, or would have, under a tie policy
    that shares ranks (not `unique`)."""
    floor = tie_floor(board, score, subscore)
    if board.tie is Tie.DENSE:
        return await index.groups_before(board, floor) + 1
    return await index.count_before(board, floor) + 1


async def shared_ranks(index: RankIndex, board: Board, pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """`shared_rank` of each distinct (total, subscore): equals share one read."""
    groups = sorted(set(pairs))
    found = await bounded.gather(functools.partial(shared_rank, index, board, *g) for g in groups)
    return dict(zip(groups, found, strict=True))


def among(board: Board, pairs: Sequence[tuple[int, int]]) -> list[int]:
    """Ranks within a list of its own (a friends board), from each member's (total, subscore),
    listed in rank order: 1, 2, 3, 4 (`unique`), 1, 1, 3, 3 (`competition`), 1, 1, 2, 2 (`dense`)."""
    out: list[int] = []
    previous: tuple[int, int] | None = None
    for i, (score, subscore) in enumerate(pairs):
        group = (score, subscore if board.subscore_order is not None else 0)
        if previous is None:
            rank = 1
        elif board.tie is Tie.UNIQUE:
            rank = i + 1
        elif group == previous:
            rank = out[-1]
        else:
            rank = i + 1 if board.tie is Tie.COMPETITION else out[-1] + 1
        out.append(rank)
        previous = group
    return out


async def with_ties(index: RankIndex, board: Board, entries: Sequence[Entry], *, neighbours: bool) -> list[Entry]:
    """`entries` renumbered under the board's tie policy. `neighbours`: they are consecutive
    in rank order (a page, a window), so only the first needs a read."""
    if board.tie is Tie.UNIQUE or not entries:
        return list(entries)
    if not neighbours:
        rank_of = await shared_ranks(index, board, [tie_group(board, e) for e in entries])
        return [replace(e, rank=rank_of[tie_group(board, e)]) for e in entries]
    out: list[Entry] = []
    rank = await shared_rank(index, board, entries[0].score, entries[0].subscore)
    for i, e in enumerate(entries):
        if i > 0 and tie_group(board, e) != tie_group(board, entries[i - 1]):
            rank = e.rank if board.tie is Tie.COMPETITION else rank + 1
        out.append(replace(e, rank=rank))
    return out


async def entry(index: RankIndex, board: Board, user_id: str) -> Entry | None:
    found = await index.entry(board, user_id)
    if found is None:
        return None
    [tied] = await with_ties(index, board, [found], neighbours=False)
    return tied


async def entries(index: RankIndex, board: Board, user_ids: Sequence[str]) -> list[Entry | None]:
    """Many users' entries, numbered under the board's tie policy."""
    found = await index.entries(board, user_ids)
    listed = [e for e in found if e is not None]
    tied = iter(await with_ties(index, board, listed, neighbours=False))
    return [next(tied) if e is not None else None for e in found]


async def page(index: RankIndex, board: Board, first: int, count: int) -> list[Entry]:
    return await with_ties(index, board, await index.page(board, first, count), neighbours=True)
