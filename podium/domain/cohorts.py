"""A board's cohorts and tiers (issue 22): the settings and their arithmetic, no I/O.

Cohorts (Unity's "buckets", the weekly league of many mobile games): a board with
`cohort_size` N places each new user in the first cohort with room, in arrival order, so
cohort 1 holds the first N users, cohort 2 the next N, and so on. Who is in which cohort is
the cohort store's to decide (podium/cohorts/), one conditional write a user; reads with
`cohort=` rank the cohort's members among themselves (podium/usecases/cohorts.py).

Tiers (Gold / Silver / Bronze): a list of named cut-offs, each by score (`min_score`) or by
place (`top_percent`). An entry's tier is the first in the list whose cut-off it reaches:

- `min_score`: the entry's total reaches the score by the board's order (at least it on a
  `desc` board, at most it on an `asc` one);
- `top_percent` p: the entry's rank r, among the n users ranked (within its cohort on a board
  with cohorts), is at most ceil(n × p / 100). Ranks are the board's, under its tie policy, so
  users who share a rank (`competition`, `dense`) share a tier; under `unique` two equal
  totals may fall either side of a cut, the first to reach it ahead. The best user is in every
  `top_percent` tier (ceil of a positive share is at least 1).

An entry that reaches none has no tier (null).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_COHORT_SIZE = 10_000  # a cohort read ranks every member: bounded
MAX_TIERS = 20
MAX_TIER_NAME_CHARS = 64


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    min_score: int | None = None  # one of the two is set
    top_percent: float | None = None

    def to_json(self) -> dict[str, Any]:
        if self.min_score is not None:
            return {"name": self.name, "min_score": self.min_score}
        return {"name": self.name, "top_percent": self.top_percent}

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Tier:
        return cls(str(body["name"]), body.get("min_score"), body.get("top_percent"))


def check_cohort_size(value: Any) -> int | str | None:
    """The setting `cohort_size` as parsed JSON (None: no cohorts), or why it is invalid."""
    if value is None:
        return None
    if type(value) is not int or not 2 <= value <= MAX_COHORT_SIZE:
        return f"cohort_size must be an integer from 2 to {MAX_COHORT_SIZE}"
    return value


def check_tiers(value: Any) -> tuple[Tier, ...] | str:
    """The setting `tiers` as parsed JSON (absent or null: none), or why it is invalid."""
    from podium.domain.boards import MAX_SCORE, MIN_SCORE  # boards.py holds a Tier: imported here, not above

    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_TIERS:
        return f"tiers must be a list of at most {MAX_TIERS} tiers"
    tiers = []
    for i, body in enumerate(value):
        if not isinstance(body, dict):
            return f"tiers[{i}] must be an object with a name and min_score or top_percent"
        unknown = sorted(set(body) - {"name", "min_score", "top_percent"})
        if unknown:
            return f"tiers[{i}]: unknown field {unknown[0]!r} (fields: name, min_score, top_percent)"
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= MAX_TIER_NAME_CHARS:
            return f"tiers[{i}].name must be a string of 1 to {MAX_TIER_NAME_CHARS} characters"
        score, percent = body.get("min_score"), body.get("top_percent")
        if (score is None) == (percent is None):
            return f"tiers[{i}] needs exactly one of min_score and top_percent"
        if score is not None and not (type(score) is int and MIN_SCORE <= score <= MAX_SCORE):
            return f"tiers[{i}].min_score must be an integer from {MIN_SCORE} to {MAX_SCORE}"
        if percent is not None and not (type(percent) in (int, float) and 0 < percent <= 100):
            return f"tiers[{i}].top_percent must be a number above 0 and at most 100"
        tiers.append(Tier(name, score, float(percent) if percent is not None else None))
    if len({t.name for t in tiers}) != len(tiers):
        return "tiers must not repeat a name"
    return tuple(tiers)


def needs_count(tiers: tuple[Tier, ...]) -> bool:
    """True if a tier is by place: the entry's tier then needs how many are ranked."""
    return any(t.top_percent is not None for t in tiers)


def tier_of(tiers: tuple[Tier, ...], desc: bool, score: int, rank: int, users: int) -> str | None:
    """The first tier whose cut-off an entry (its total, its rank among `users`) reaches;
    `desc`: the board ranks higher totals first."""
    for tier in tiers:
        if tier.min_score is not None:
            reached = score >= tier.min_score if desc else score <= tier.min_score
        else:
            assert tier.top_percent is not None
            reached = rank <= _places(users, tier.top_percent)
        if reached:
            return tier.name
    return None


def _places(users: int, percent: float) -> int:
    """ceil(users × percent / 100), in integers where the percent is whole (no float drift)."""
    if percent == int(percent):
        return -(-users * int(percent) // 100)
    return -int(-users * percent // 100)


def cohort_of_seat(seat: int, size: int) -> int:
    """The cohort (1-based) of the `seat`-th user placed (0-based): arrival order fills each in turn."""
    return seat // size + 1
