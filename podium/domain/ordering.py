"""Ranking order: by total in the board's order, then the subscore in its own order
(on a board that has one), then who reached that pair first, then user id.

Rank keys are unique, so the order of users is total and every page deterministic;
tie policies (`boards.Tie`) only change the numbers printed next to equal users.

A key is (score key, tie-break, user id). The tie-break packs the subscore above the
time reached into one non-negative integer, so a key has the same shape on every
board and a board without a subscore keeps the plain time: its members in Redis stay
as they were (16 hex digits of time, `index.redis.member`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.domain.boards import MAX_SCORE, Board, Order

if TYPE_CHECKING:
    from podium.domain.totals import Total

SortKey = tuple[int, int, str]

_TIME_BITS = 64  # microseconds since 1970 fit until far beyond anyone's season
_SUB_OFFSET = MAX_SCORE + 1  # makes every subscore key non-negative


def score_key(order: Order, total: int) -> int:
    return -total if order is Order.DESC else total


def tiebreak(board: Board, subscore: int, reached_at_us: int) -> int:
    if board.subscore_order is None:
        return reached_at_us
    sub = -subscore if board.subscore_order is Order.DESC else subscore
    return ((sub + _SUB_OFFSET) << _TIME_BITS) | reached_at_us


def tie_floor(board: Board, total: int, subscore: int) -> SortKey:
    """The smallest key a user with this (total, subscore) can have: the first of equals."""
    return (score_key(board.order, total), tiebreak(board, subscore, 0), "")


def tie_ceiling(board: Board, total: int, subscore: int) -> SortKey:
    """The smallest key past every user with this (total, subscore): the first of the next
    equals. With `tie_floor`, it brackets one shared rank."""
    if board.subscore_order is None:
        return (score_key(board.order, total) + 1, 0, "")
    return (score_key(board.order, total), tiebreak(board, subscore, 0) + (1 << _TIME_BITS), "")


def is_tiebreak(board: Board, tie: int) -> bool:
    """True if `tiebreak` can give `tie` on this board: 64 bits of time, under a subscore
    part from 1 to 2 * MAX_SCORE + 1 on a board that has one (and none on one that has not)."""
    if board.subscore_order is None:
        return 0 <= tie < 1 << _TIME_BITS
    return tie >= 0 and 1 <= tie >> _TIME_BITS <= 2 * MAX_SCORE + 1


def tie_of(board: Board, key: SortKey) -> tuple[int, int]:
    """What makes two keys equal under a shared rank: score key and subscore part."""
    if board.subscore_order is None:
        return key[0], 0
    return key[0], key[1] >> _TIME_BITS


def sort_key(board: Board, total: int, subscore: int, reached_at_us: int, user_id: str) -> SortKey:
    """A key that sorts ascending into rank order (best first)."""
    return (score_key(board.order, total), tiebreak(board, subscore, reached_at_us), user_id)


def total_key(board: Board, t: Total) -> SortKey:
    """The rank key of a user's total."""
    return sort_key(board, t.total, t.subscore, t.reached_at_us, t.user_id)


def subscore_of(board: Board, tie: int) -> int:
    """The subscore a tie-break holds (0 on a board without subscores)."""
    if board.subscore_order is None:
        return 0
    sub = (tie >> _TIME_BITS) - _SUB_OFFSET
    return -sub if board.subscore_order is Order.DESC else sub


def tie_width(board: Board) -> int:
    """Hex digits of the tie-break in a Redis member: fixed per board, so members sort
    by bytes exactly as their keys do."""
    return 16 if board.subscore_order is None else 30
