"""A board's score rules: which submission breaks which rule, and which settings are valid."""

from __future__ import annotations

from typing import Any

import pytest

from podium.domain.boards import MAX_SCORE, Board, Operator, Rules
from podium.domain.rules import broken_rule, check_rules

BOUNDS = Rules(min_score=0, max_score=1000)
CHANGE = Rules(max_change=100)


@pytest.mark.parametrize(
    ("rules", "operator", "score", "current", "expected"),
    [
        (BOUNDS, Operator.SET, 0, None, None),
        (BOUNDS, Operator.SET, 1000, None, None),
        (BOUNDS, Operator.SET, -1, None, "min_score"),
        (BOUNDS, Operator.BEST, 1001, 999, "max_score"),
        (BOUNDS, Operator.INCR, 1001, None, "max_score"),  # the amount itself is bounded
        (CHANGE, Operator.INCR, 100, 5000, None),
        (CHANGE, Operator.INCR, 101, None, "max_change"),  # incr/decr: the amount's size
        (CHANGE, Operator.DECR, -101, None, "max_change"),
        (CHANGE, Operator.SET, 600, 500, None),
        (CHANGE, Operator.SET, 601, 500, "max_change"),  # best/set: the distance from the total
        (CHANGE, Operator.BEST, 399, 500, "max_change"),
        (CHANGE, Operator.BEST, 10**9, None, None),  # no total yet: only the bounds apply
        (Rules(min_score=0, max_change=1), Operator.INCR, -5, None, "min_score"),  # bounds first
        (Rules(), Operator.SET, MAX_SCORE, 0, None),
    ],
)
def test_broken_rule(rules: Rules, operator: Operator, score: int, current: int | None, expected: str | None) -> None:
    assert broken_rule(rules, operator, score, current) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "must be a JSON object"),
        ({"max_speed": 1}, "unknown rule 'max_speed'"),
        ({"min_score": 1.5}, "min_score must be an integer"),
        ({"max_score": True}, "max_score must be an integer"),
        ({"max_score": MAX_SCORE + 1}, "max_score must be an integer"),
        ({"max_change": -1}, "max_change must be an integer from 0"),
        ({"max_submissions_per_minute": 0}, "max_submissions_per_minute must be an integer from 1"),
        ({"max_submissions_per_minute": 10_001}, "max_submissions_per_minute must be an integer from 1"),
        ({"min_score": 5, "max_score": 4}, "min_score must not be larger"),
    ],
)
def test_invalid_rules_say_why(body: Any, message: str) -> None:
    checked = check_rules(body)
    assert isinstance(checked, str) and message in checked


def test_valid_rules_round_trip_through_the_stored_settings() -> None:
    rules = check_rules({"min_score": 0, "max_score": None, "max_change": 50, "max_submissions_per_minute": 30})
    assert rules == Rules(min_score=0, max_change=50, max_submissions_per_minute=30)
    assert rules.to_json() == {"min_score": 0, "max_change": 50, "max_submissions_per_minute": 30}
    board = Board("arena", rules=rules)
    assert Board.from_settings("arena", board.settings_json()) == board
    assert Board.from_settings("old", {"order": "desc"}).rules == Rules()  # boards made before rules existed
