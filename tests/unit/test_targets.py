"""The total that takes a rank, from the pair of the user the rank is measured against."""

from __future__ import annotations

import pytest

from podium.domain.boards import MAX_SCORE, MIN_SCORE, Board, Order, Tie
from podium.domain.targets import needed_total, one_better


@pytest.mark.parametrize(
    ("tie", "want"),
    [(Tie.UNIQUE, 51), (Tie.COMPETITION, 50), (Tie.DENSE, 50)],
)
def test_an_equal_total_is_enough_only_where_equals_share_a_rank(tie: Tie, want: int) -> None:
    assert needed_total(Board("b", tie=tie), (50, 0), 0) == want


@pytest.mark.parametrize(
    ("tie", "subscore", "want"),
    [
        (Tie.COMPETITION, 3, 50),  # an equal pair shares the rank
        (Tie.COMPETITION, 2, 51),
        (Tie.UNIQUE, 3, 51),  # an equal pair reached later stays behind
        (Tie.UNIQUE, 4, 50),  # the subscore alone passes it
    ],
)
def test_the_subscore_decides_among_equal_totals(tie: Tie, subscore: int, want: int) -> None:
    board = Board("b", tie=tie, subscore_order=Order.DESC)
    assert needed_total(board, (50, 3), subscore) == want


def test_ascending_boards_and_the_edges() -> None:
    asc = Board("b", Order.ASC)
    assert needed_total(asc, (20, 0), 0) == 19 and one_better(asc.order, 20) == 19
    assert needed_total(asc, None, 0) == MAX_SCORE  # no one there: any total takes it
    assert needed_total(Board("b"), None, 0) == MIN_SCORE
    assert needed_total(Board("b"), (MAX_SCORE, 0), 0) is None  # no total passes the best
    assert one_better(Order.DESC, MAX_SCORE) is None and one_better(Order.ASC, MIN_SCORE) is None
    assert needed_total(Board("b", tie=Tie.COMPETITION), (MAX_SCORE, 0), 0) == MAX_SCORE
