"""A board's score rules: what a submission may claim, checked before it reaches the log.

The rules catch what no honest client sends (a score past the game's bounds, a jump no
play can make, more submissions than a player can finish in a minute); they are no
substitute for the game server's own validation (docs/security.md).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from podium.domain.boards import MAX_SCORE, MIN_SCORE, Operator, Rules

MAX_SUBMISSIONS_PER_MINUTE = 10_000  # a user's submissions kept in a minute's count: bounded


RULE_NAMES = tuple(f.name for f in fields(Rules))


def check_rules(body: Any) -> Rules | str:
    """The rules of a board setting `rules` (a JSON object of optional non-negative or
    score-sized integers, null meaning off), or why it is invalid."""
    if not isinstance(body, dict):
        return "rules must be a JSON object"
    unknown = sorted(set(body) - set(RULE_NAMES))
    if unknown:
        return f"unknown rule {unknown[0]!r} (rules: {', '.join(RULE_NAMES)})"
    for name in ("min_score", "max_score"):
        value = body.get(name)
        if value is not None and not (type(value) is int and MIN_SCORE <= value <= MAX_SCORE):
            return f"{name} must be an integer from {MIN_SCORE} to {MAX_SCORE}, or null"
    change = body.get("max_change")
    if change is not None and not (type(change) is int and 0 <= change <= MAX_SCORE):
        return f"max_change must be an integer from 0 to {MAX_SCORE}, or null"
    per_minute = body.get("max_submissions_per_minute")
    if per_minute is not None and not (type(per_minute) is int and 1 <= per_minute <= MAX_SUBMISSIONS_PER_MINUTE):
        return f"max_submissions_per_minute must be an integer from 1 to {MAX_SUBMISSIONS_PER_MINUTE}, or null"
    rules = Rules.from_json(body)
    if rules.min_score is not None and rules.max_score is not None and rules.min_score > rules.max_score:
        return "min_score must not be larger than max_score"
    return rules


def broken_rule(rules: Rules, operator: Operator, score: int, current: int | None) -> str | None:
    """The first rule a submission of `score` with `operator` breaks, or None. `current` is
    the user's current total (None: the user has none, so only the bounds apply to best/set)."""
    if rules.min_score is not None and score < rules.min_score:
        return "min_score"
    if rules.max_score is not None and score > rules.max_score:
        return "max_score"
    if rules.max_change is not None:
        if operator in (Operator.INCR, Operator.DECR):
            change: int | None = abs(score)
        else:
            change = abs(score - current) if current is not None else None
        if change is not None and change > rules.max_change:
            return "max_change"
    return None
