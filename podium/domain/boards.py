"""Boards and what a submitted score does to a user's total."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

# Ids and idempotency keys: short, URL- and key-safe, so they can be used
# verbatim in URLs, Kafka keys, Cassandra rows and Redis keys.
ID_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,128}")

# Scores and totals stay within what a JSON number holds exactly in every
# client (JavaScript's safe integers); totals saturate at the edges.
MAX_SCORE = 2**53 - 1
MIN_SCORE = -MAX_SCORE


class Order(StrEnum):
    """Which way a board ranks: desc means a higher total is better."""

    DESC = "desc"
    ASC = "asc"


class Operator(StrEnum):
    """How a submitted score combines with the user's total."""

    INCR = "incr"  # add the score to the total
    BEST = "best"  # keep the best score submitted (by the board's order)
    SET = "set"  # keep the latest score submitted


@dataclass(frozen=True, slots=True)
class Board:
    name: str
    order: Order = Order.DESC
    operator: Operator = Operator.INCR

    def to_json(self) -> dict[str, str]:
        return {"board": self.name, "order": self.order.value, "operator": self.operator.value}


def is_valid_id(value: object) -> bool:
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


def is_valid_score(value: object) -> bool:
    # bool is an int subclass in Python; a JSON true is not a score.
    return type(value) is int and MIN_SCORE <= value <= MAX_SCORE


def clamp(total: int) -> int:
    return max(MIN_SCORE, min(MAX_SCORE, total))


def combine(board: Board, current: int | None, score: int) -> int:
    """The user's new total after submitting `score` (current None: first score)."""
    if current is None:
        return score
    if board.operator is Operator.INCR:
        return clamp(current + score)
    if board.operator is Operator.SET:
        return score
    # BEST: keep whichever is better by the board's order.
    return max(current, score) if board.order is Order.DESC else min(current, score)
