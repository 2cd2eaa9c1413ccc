"""A change a newer one of the same user overtook before the index was written gets, in the
rank history, the rank its total has among the others: exactly what a board holding the
others and that older total would say, under every tie policy, either order, with and
without a subscore (podium/usecases/standings.py, `rank_among_others`)."""

from __future__ import annotations

import asyncio
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from podium.domain.boards import Board, Order, Tie
from podium.domain.totals import LogPosition, Total
from podium.index.memory import MemoryRankIndex
from podium.usecases.standings import Standings

_names = itertools.count()


def total(board: Board, user: str, score: int, sub: int, at: int, version: int = 1, hidden: bool = False) -> Total:
    return Total(board.name, user, score, version, at, LogPosition(0, at), subscore=sub, hidden=hidden)


@settings(max_examples=150, deadline=None)
@given(
    tie=st.sampled_from(list(Tie)),
    order=st.sampled_from(list(Order)),
    subscore=st.sampled_from([None, Order.ASC, Order.DESC]),
    others=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 2)), max_size=8),
    newest=st.tuples(st.integers(0, 4), st.integers(0, 2), st.booleans()),
    older=st.tuples(st.integers(0, 4), st.integers(0, 2)),
)
def test_an_overtaken_total_ranks_as_a_board_of_the_others_and_it_says(
    tie: Tie,
    order: Order,
    subscore: Order | None,
    others: list[tuple[int, int]],
    newest: tuple[int, int, bool],
    older: tuple[int, int],
) -> None:
    board = Board(f"overtaken{next(_names)}", order=order, tie=tie, subscore_order=subscore)
    sub = (lambda s: s) if subscore is not None else (lambda s: 0)
    rivals = [total(board, f"r{i}", score, sub(s), at=10 + i) for i, (score, s) in enumerate(others)]
    mine_then = total(board, "me", older[0], sub(older[1]), at=100, version=1)
    mine_now = total(board, "me", newest[0], sub(newest[1]), at=200, version=2, hidden=newest[2])

    async def ranks() -> tuple[int, int]:
        now = MemoryRankIndex()
        await now.apply(board, [*rivals, mine_now])
        found = await Standings(now).rank_among_others(board, mine_now, mine_then)
        # A batch's overtaken changes at once (one count read) rank as each one alone.
        assert await Standings(now).ranks_among_others(board, [(mine_now, mine_then)] * 2) == [found, found]
        then = MemoryRankIndex()  # the reference: the others, and the older total
        await then.apply(board, [*rivals, mine_then])
        entry = await Standings(then).entry(board, "me")
        assert entry is not None
        return found, entry.rank

    found, expected = asyncio.run(ranks())
    assert found == expected
