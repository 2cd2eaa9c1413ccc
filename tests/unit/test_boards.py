from __future__ import annotations

import pytest

from podium.domain.boards import MAX_SCORE, MIN_SCORE, Board, Operator, Order, combine, is_valid_id, is_valid_score


@pytest.mark.parametrize(
    ("order", "operator", "current", "score", "expected"),
    [
        (Order.DESC, Operator.INCR, None, 5, 5),
        (Order.DESC, Operator.INCR, 5, 7, 12),
        (Order.DESC, Operator.INCR, 5, -7, -2),
        (Order.DESC, Operator.BEST, 5, 3, 5),
        (Order.DESC, Operator.BEST, 5, 9, 9),
        (Order.ASC, Operator.BEST, 5, 3, 3),
        (Order.ASC, Operator.BEST, 5, 9, 5),
        (Order.DESC, Operator.SET, 5, 3, 3),
        (Order.ASC, Operator.SET, 5, 9, 9),
    ],
)
def test_operators_combine_a_score_with_the_total(
    order: Order, operator: Operator, current: int | None, score: int, expected: int
) -> None:
    assert combine(Board("b", order, operator), current, score) == expected


def test_incr_saturates_at_the_safe_integer_edges() -> None:
    board = Board("b")
    assert combine(board, MAX_SCORE, 10) == MAX_SCORE
    assert combine(board, MIN_SCORE, -10) == MIN_SCORE


@pytest.mark.parametrize("value", ["a", "A-z_0.9:x", "x" * 128])
def test_valid_ids(value: str) -> None:
    assert is_valid_id(value)


@pytest.mark.parametrize("value", ["", "x" * 129, "a b", "a/b", "é", 5, None, "a\n"])
def test_invalid_ids(value: object) -> None:
    assert not is_valid_id(value)


@pytest.mark.parametrize("value", [0, 1, -1, MAX_SCORE, MIN_SCORE])
def test_valid_scores(value: int) -> None:
    assert is_valid_score(value)


@pytest.mark.parametrize("value", [1.0, 1.5, "1", True, None, MAX_SCORE + 1, MIN_SCORE - 1])
def test_invalid_scores(value: object) -> None:
    assert not is_valid_score(value)
