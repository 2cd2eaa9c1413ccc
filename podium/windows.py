"""A board's time windows, as the rest of Podium needs them: which stored boards one
submission feeds, which stored board a read names, which to delete with the board.

Each period of a window is stored as a board of its own (`domain.windows.period_board`),
with the settings of the board it belongs to; the all-time window is the board itself.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import podium.domain.windows as w
from podium.domain.boards import Board

if TYPE_CHECKING:
    from podium.bootstrap import Services


def check_window(spec: Any) -> str:
    w.parse_window(spec)
    return str(spec)


def check_timezone(name: Any) -> str:
    return w.check_timezone(name)


def now_us() -> int:
    return time.time_ns() // 1000


def period_boards_of(board: Board, at_us: int) -> list[Board]:
    """The stored boards a submission at `at_us` to `board` updates: one per window."""
    out = []
    for spec in board.windows:
        window = w.parse_window(spec)
        if window.kind is w.WindowKind.ALL:
            out.append(board)
        else:
            period = w.period_at(window, board.timezone, at_us)
            out.append(board.renamed(w.period_board(board.name, window, period.id)))
    return out


async def stored_boards(svc: Services, board: Board) -> list[str]:
    """Every stored board of `board`: itself and its windows' kept periods."""
    names = [board.name]
    at = now_us()
    for spec in board.windows:
        window = w.parse_window(spec)
        if window.kind is w.WindowKind.ALL:
            continue
        periods = [
            w.period_at(window, board.timezone, at),
            *w.previous_periods(window, board.timezone, at, board.keep_periods),
        ]
        names += [w.period_board(board.name, window, p.id) for p in periods]
    return names
