"""Ranking order: by total in the board's order, then who reached it first.

Ranks are 1-based and unique. Equal totals rank by `reached_at_us` (earlier
first) and, for the rare exact tie in time, by user id, so every page is
deterministic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.domain.boards import Order

if TYPE_CHECKING:
    from podium.domain.totals import Total

SortKey = tuple[int, int, str]


def sort_key(order: Order, total: int, reached_at_us: int, user_id: str) -> SortKey:
    """A key that sorts ascending into rank order (best first)."""
    return (-total if order is Order.DESC else total, reached_at_us, user_id)


def total_key(order: Order, t: Total) -> SortKey:
    """The rank key of a user's total."""
    return sort_key(order, t.total, t.reached_at_us, t.user_id)
