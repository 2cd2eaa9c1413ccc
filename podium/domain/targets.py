"""The total that takes a rank: from the (total, subscore) of the user a rank is measured
against (who that is under each tie policy: api.reads.rank_place). Pure.

A user who reaches a total now reaches it after everyone already holding it, so among equal
(total, subscore) pairs it comes last: under `unique` an equal pair stays behind, under
`competition` and `dense` it shares the rank.
"""

from __future__ import annotations

from podium.domain.boards import MAX_SCORE, MIN_SCORE, Board, Order, Tie, is_better_pair


def worst_total(order: Order) -> int:
    return MIN_SCORE if order is Order.DESC else MAX_SCORE


def one_better(order: Order, total: int) -> int | None:
    """The next total better than `total`; None at ±(2^53 − 1), where totals saturate."""
    better = total + (1 if order is Order.DESC else -1)
    return better if MIN_SCORE <= better <= MAX_SCORE else None


def needed_total(board: Board, there: tuple[int, int] | None, subscore: int) -> int | None:
    """The worst total that ranks a user arriving now with `subscore` at `there`'s rank or
    better. `there` None (fewer users than the rank): any total does, so the worst one.
    None: no total does (`there` is at the edge of totals and cannot be passed)."""
    if there is None:
        return worst_total(board.order)
    mine = (there[0], subscore)
    if is_better_pair(board, mine, there):  # the subscore alone passes it
        return there[0]
    if board.tie is not Tie.UNIQUE and not is_better_pair(board, there, mine):  # equal: shares it
        return there[0]
    return one_better(board.order, there[0])
