from __future__ import annotations

import pytest

from podium.domain.boards import (
    MAX_SCORE,
    MIN_SCORE,
    Board,
    Operator,
    Order,
    Tie,
    combine,
    is_valid_id,
    is_valid_score,
)


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
        (Order.DESC, Operator.DECR, None, 5, -5),
        (Order.DESC, Operator.DECR, 5, 7, -2),  # no floor
        (Order.ASC, Operator.DECR, 5, -7, 12),
    ],
)
def test_operators_combine_a_score_with_the_total(
    order: Order, operator: Operator, current: int | None, score: int, expected: int
) -> None:
    board = Board("b", order, operator)
    before = None if current is None else (current, 0)
    assert combine(board, operator, before, score) == (expected, 0)


def test_incr_and_decr_saturate_at_the_safe_integer_edges() -> None:
    board = Board("b")
    assert combine(board, Operator.INCR, (MAX_SCORE, 0), 10) == (MAX_SCORE, 0)
    assert combine(board, Operator.INCR, (MIN_SCORE, 0), -10) == (MIN_SCORE, 0)
    assert combine(board, Operator.DECR, (MIN_SCORE, 0), 10) == (MIN_SCORE, 0)


@pytest.mark.parametrize(
    ("operator", "current", "submitted", "expected"),
    [
        (Operator.INCR, (5, 1), (2, 3), (7, 4)),  # the subscore follows the score
        (Operator.DECR, (5, 1), (2, 3), (3, -2)),
        (Operator.SET, (5, 1), (2, 3), (2, 3)),
        (Operator.BEST, (5, 1), (5, 3), (5, 1)),  # equal totals: the lower subscore is better (asc)
        (Operator.BEST, (5, 3), (5, 1), (5, 1)),
        (Operator.BEST, (5, 1), (6, 9), (6, 9)),
        (Operator.BEST, (5, 1), (4, 0), (5, 1)),
        (Operator.BEST, (5, 1), (5, 1), (5, 1)),  # a tie keeps the current pair
    ],
)
def test_the_subscore_follows_its_score(
    operator: Operator, current: tuple[int, int], submitted: tuple[int, int], expected: tuple[int, int]
) -> None:
    board = Board("b", Order.DESC, operator, subscore_order=Order.ASC)
    assert combine(board, operator, current, *submitted) == expected


def test_best_without_a_subscore_order_ignores_subscores() -> None:
    board = Board("b", Order.DESC, Operator.BEST)
    assert combine(board, Operator.BEST, (5, 1), 5, 0) == (5, 1)


def test_board_settings_round_trip_through_json() -> None:
    board = Board("b", Order.ASC, Operator.DECR, Tie.DENSE, Order.DESC, ("all", "day"), "Europe/Paris", 3, True)
    assert Board.from_settings("b", board.settings_json()) == board
    assert Board.from_settings("b", {"order": "asc", "operator": "set"}) == Board("b", Order.ASC, Operator.SET)


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
