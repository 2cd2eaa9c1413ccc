"""Tie policies and subscores, on every rank index adapter, against a plain reference:
for random boards (order, subscore order, tie policy) and random histories (subscores,
equal totals, bans and removals), every page, entry and window numbers users as the
reference does."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podium.domain.boards import Board, Order, Tie
from podium.domain.ordering import SortKey, tie_floor, tie_of, total_key
from podium.domain.totals import LogPosition, Total
from podium.usecases import ranks
from tests.contract.conftest import IndexFactory
from tests.contract.test_rank_index import USERS, newest_of

_boards = itertools.count()


@st.composite
def tied_histories(draw: st.DrawFn) -> tuple[Board, list[Total]]:
    board = Board(
        f"ties{next(_boards)}",
        draw(st.sampled_from(list(Order))),
        tie=draw(st.sampled_from(list(Tie))),
        subscore_order=draw(st.sampled_from([None, Order.ASC, Order.DESC])),
    )
    totals = []
    for user in draw(st.lists(st.sampled_from(USERS), unique=True, max_size=len(USERS))):
        for v in range(1, draw(st.integers(1, 3)) + 1):
            removed = draw(st.booleans()) and v > 1
            totals.append(
                Total(
                    board.name,
                    user,
                    draw(st.integers(0, 3) | st.sampled_from([2**53 - 1, -(2**53 - 1)])),  # few values: many ties
                    v,
                    draw(st.integers(0, 3)),
                    LogPosition(0, v),
                    removed=removed,
                    # The API refuses a subscore on a board without a subscore order.
                    subscore=0
                    if board.subscore_order is None
                    else draw(st.integers(-2, 2) | st.sampled_from([2**53 - 1, -(2**53 - 1)])),
                    hidden=not removed and draw(st.integers(0, 5)) == 0,
                )
            )
    return board, draw(st.permutations(totals))


def reference_rank(board: Board, live: list[Total], key: SortKey) -> int:
    """The rank a user with rank key `key` has (or would have) among `live` (sorted)."""
    ahead = [total_key(board, t) for t in live if total_key(board, t) < key]
    if board.tie is Tie.UNIQUE:
        return len(ahead) + 1
    group = tie_of(board, key)
    better = [k for k in ahead if tie_of(board, k) < group]
    if board.tie is Tie.COMPETITION:
        return len(better) + 1
    return len({tie_of(board, k) for k in better}) + 1


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=tied_histories(), chunk=st.integers(1, 4))
def test_ranks_under_each_tie_policy_equal_the_reference(
    make_index: IndexFactory, history: tuple[Board, list[Total]], chunk: int
) -> None:
    board, delivered = history
    newest = newest_of(delivered)
    live = sorted((t for t in newest.values() if t.ranked), key=lambda t: total_key(board, t))
    want = [(reference_rank(board, live, total_key(board, t)), t.user_id, t.total, t.subscore) for t in live]

    async def check() -> None:
        index = await make_index()
        try:
            for i in range(0, len(delivered), chunk):
                await index.apply(board, delivered[i : i + chunk])

            def rows(entries: list) -> list[tuple[int, str, int, int]]:  # type: ignore[type-arg]
                return [(e.rank, e.user_id, e.score, e.subscore) for e in entries]

            assert rows(await ranks.page(index, board, 1, 100)) == want
            for first in range(1, len(want) + 2):  # windows starting mid-run of equals, and past the end
                assert rows(await ranks.page(index, board, first, 3)) == want[first - 1 : first + 2]
            for t in newest.values():
                entry = await ranks.entry(index, board, t.user_id)
                if t.removed:
                    assert entry is None
                    continue
                assert entry is not None
                # A hidden user sees the rank it would have; nobody else sees it.
                assert (entry.rank, entry.score, entry.subscore, entry.hidden) == (
                    reference_rank(board, live, total_key(board, t)),
                    t.total,
                    t.subscore,
                    t.hidden,
                )
            # Many at once (with users nobody knows) answer as one at a time.
            asked = [*newest, "nobody"]
            singles = [await ranks.entry(index, board, u) for u in asked]
            assert await ranks.entries(index, board, asked) == singles
            for t in newest.values():
                key = total_key(board, t)
                assert await index.count_before(board, key) == sum(1 for x in live if total_key(board, x) < key)
            # Many keys at once answer as one at a time, keys no user has (a pair's floor) too.
            keys = [k for t in newest.values() for k in (total_key(board, t), tie_floor(board, t.total, t.subscore))]
            assert await index.counts_before(board, keys) == [await index.count_before(board, k) for k in keys]
            assert await index.counts_before(board, []) == []
        finally:
            await index.close()

    asyncio.run(check())


async def test_equal_totals_share_ranks_only_as_the_policy_says(make_index: IndexFactory) -> None:
    want = {
        Tie.UNIQUE: [1, 2, 3, 4, 5],
        Tie.COMPETITION: [1, 2, 2, 4, 4],
        Tie.DENSE: [1, 2, 2, 3, 3],
    }
    for tie, expected_ranks in want.items():
        board = Board(f"ties{next(_boards)}", tie=tie)
        scores = [("a", 9), ("b", 7), ("c", 7), ("d", 5), ("e", 5)]
        index = await make_index()
        try:
            totals = [Total(board.name, u, s, 1, i, LogPosition(0, i)) for i, (u, s) in enumerate(scores)]
            await index.apply(board, totals)
            page = await ranks.page(index, board, 1, 10)
            assert [(e.user_id, e.rank) for e in page] == list(zip("abcde", expected_ranks, strict=True))
            assert [e.rank for e in await ranks.page(index, board, 3, 2)] == expected_ranks[2:4]
            entry = await ranks.entry(index, board, "e")
            assert entry is not None and entry.rank == expected_ranks[4]
            # Remove one of a pair: the other keeps the shared rank and the rest close up.
            await index.apply(board, [dataclasses.replace(totals[1], version=2, removed=True)])
            page = await ranks.page(index, board, 1, 10)
            assert [e.rank for e in page] == {
                Tie.UNIQUE: [1, 2, 3, 4],
                Tie.COMPETITION: [1, 2, 3, 3],
                Tie.DENSE: [1, 2, 3, 3],
            }[tie]
        finally:
            await index.close()
