"""Boards, their settings, and what a submitted score does to a user's total."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any

from podium.domain.cohorts import Tier
from podium.domain.tournaments import Tournament

# Ids and idempotency keys: short, URL- and key-safe, so they can be used
# verbatim in URLs, Kafka keys, Cassandra rows and Redis keys.
MAX_ID_CHARS = 128
ID_PATTERN = re.compile(rf"[A-Za-z0-9_.:-]{{1,{MAX_ID_CHARS}}}")

# Scores and totals stay within what a JSON number holds exactly in every
# client (JavaScript's safe integers); totals saturate at the edges.
MAX_SCORE = 2**53 - 1
MIN_SCORE = -MAX_SCORE

MAX_KEEP_PERIODS = 366


class Order(StrEnum):
    """Which way a board ranks: desc means a higher total is better."""

    DESC = "desc"
    ASC = "asc"


class Operator(StrEnum):
    """How a submitted score combines with the user's total."""

    INCR = "incr"  # add the score to the total
    DECR = "decr"  # subtract the score from the total (no floor)
    BEST = "best"  # keep the best score submitted (by the board's order)
    SET = "set"  # keep the latest score submitted


class Tie(StrEnum):
    """How equal totals are numbered. The order of users is the same under each (who
    reached the total first comes first); only the rank numbers differ."""

    UNIQUE = "unique"  # 1, 2, 3, 4: every user their own rank
    COMPETITION = "competition"  # 1, 2, 2, 4: equals share the best rank, the next skips
    DENSE = "dense"  # 1, 2, 2, 3: equals share a rank, the next does not skip


class Reads(StrEnum):
    """Who may read a board: anyone (a public web page), or only callers with a key."""

    PUBLIC = "public"
    KEY = "key"


@dataclass(frozen=True, slots=True)
class Rules:
    """A board's score rules (podium/domain/rules.py checks them); each is off when None."""

    min_score: int | None = None  # the smallest score a submission may carry
    max_score: int | None = None  # the largest
    # incr/decr: the largest amount a submission may add or take; best/set: the largest
    # distance between the submitted score and the user's current total.
    max_change: int | None = None
    max_submissions_per_minute: int | None = None  # per user and board, over the last 60 s

    def to_json(self) -> dict[str, int]:
        """The rules that are set (an empty object: none)."""
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Rules:
        return cls(**{f.name: body.get(f.name) for f in fields(cls)})

    @property
    def needs_total(self) -> bool:
        """True if a best/set submission is judged against the user's current total."""
        return self.max_change is not None


# What PATCH may change: the rest shapes what is stored (order, operator, subscore,
# windows' time zone) or how it is indexed (dense ties), so it is fixed at creation.
# Tiers are worked out at each read, so they may change too; cohorts are placed once, so not.
MUTABLE_SETTINGS = ("windows", "keep_periods", "allow_operator_override", "reads", "rules", "tiers")


@dataclass(frozen=True, slots=True)
class Board:
    name: str
    order: Order = Order.DESC
    operator: Operator = Operator.INCR
    tie: Tie = Tie.UNIQUE
    subscore_order: Order | None = None  # None: the board has no subscore
    windows: tuple[str, ...] = ("all",)
    timezone: str = "UTC"
    keep_periods: int = 7
    allow_operator_override: bool = False
    reads: Reads = Reads.KEY
    rules: Rules = Rules()
    tournament: Tournament | None = None  # None: an ordinary board (domain/tournaments.py)
    cohort_size: int | None = None  # None: one ranking; N: users placed in cohorts of N (domain/cohorts.py)
    tiers: tuple[Tier, ...] = ()  # () : entries carry no tier
    # Set on the board a window's period is stored as (domain.windows): the board the
    # user created, whose settings it shares.
    parent: str | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "board": self.name,
            "order": self.order.value,
            "operator": self.operator.value,
            "tie": self.tie.value,
            "subscore_order": self.subscore_order.value if self.subscore_order is not None else None,
            "windows": list(self.windows),
            "timezone": self.timezone,
            "keep_periods": self.keep_periods,
            "allow_operator_override": self.allow_operator_override,
            "reads": self.reads.value,
            "rules": self.rules.to_json(),
            # Only on a tournament's board: every other board's settings read as before.
            **({"tournament": self.tournament.to_json()} if self.tournament is not None else {}),
            # Likewise only where set: a board without them reads as before.
            **({"cohort_size": self.cohort_size} if self.cohort_size is not None else {}),
            **({"tiers": [t.to_json() for t in self.tiers]} if self.tiers else {}),
        }

    def settings_json(self) -> dict[str, Any]:
        """The settings as stored (everything but the name)."""
        body = self.to_json()
        del body["board"]
        return body

    @classmethod
    def from_settings(cls, name: str, settings: dict[str, Any]) -> Board:
        sub = settings.get("subscore_order")
        return cls(
            name,
            Order(settings.get("order", "desc")),
            Operator(settings.get("operator", "incr")),
            Tie(settings.get("tie", "unique")),
            Order(sub) if sub else None,
            tuple(settings.get("windows", ("all",))),
            str(settings.get("timezone", "UTC")),
            int(settings.get("keep_periods", 7)),
            bool(settings.get("allow_operator_override", False)),
            Reads(settings.get("reads", "key")),  # boards made before the setting: key-only
            Rules.from_json(settings.get("rules") or {}),
            Tournament.from_json(settings["tournament"]) if settings.get("tournament") else None,
            settings.get("cohort_size"),
            tuple(Tier.from_json(t) for t in settings.get("tiers") or ()),
        )

    def renamed(self, name: str) -> Board:
        """The same settings under another name (a window's period board)."""
        return replace(self, name=name, parent=self.name)


def is_valid_id(value: object) -> bool:
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


def is_valid_score(value: object) -> bool:
    # bool is an int subclass in Python; a JSON true is not a score.
    return type(value) is int and MIN_SCORE <= value <= MAX_SCORE


def clamp(total: int) -> int:
    return max(MIN_SCORE, min(MAX_SCORE, total))


def better(order: Order, a: int, b: int) -> bool:
    """True if `a` ranks strictly above `b` on a board of `order`."""
    return a > b if order is Order.DESC else a < b


def is_better_pair(board: Board, a: tuple[int, int], b: tuple[int, int]) -> bool:
    """(total, subscore) `a` ranks strictly above `b`: the subscore breaks a tie in totals."""
    if a[0] != b[0]:
        return better(board.order, a[0], b[0])
    return board.subscore_order is not None and better(board.subscore_order, a[1], b[1])


def combine(
    board: Board, operator: Operator, current: tuple[int, int] | None, score: int, subscore: int = 0
) -> tuple[int, int]:
    """The user's new (total, subscore) after submitting (`score`, `subscore`) with
    `operator` (current None: first score). The subscore follows the score: added,
    subtracted, replaced, or kept with the best score (Nakama's rule)."""
    if current is None:
        if operator is Operator.DECR:
            return clamp(-score), clamp(-subscore)
        return score, subscore
    if operator is Operator.INCR:
        return clamp(current[0] + score), clamp(current[1] + subscore)
    if operator is Operator.DECR:
        return clamp(current[0] - score), clamp(current[1] - subscore)
    if operator is Operator.SET:
        return score, subscore
    # BEST: keep whichever pair is better; the current one on a tie.
    return (score, subscore) if is_better_pair(board, (score, subscore), current) else current
