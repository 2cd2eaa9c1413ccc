"""A board's time windows, as the rest of Podium needs them: which stored boards one
submission feeds, which stored board a read names, which to delete with the board.

Each period of a window is stored as a board of its own (`domain.windows.period_board`),
with the settings of the board it belongs to; the all-time window is the board itself.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import podium.domain.windows as w
from podium.domain.boards import Board
from podium.errors import InvalidInput, NotFound
from podium.usecases.rank_history import forget_boards

if TYPE_CHECKING:
    from podium.history.base import RankHistory
    from podium.index.generations import GenerationalRankIndex
    from podium.store.base import Store
    from podium.usecases.board_settings import Boards


def default_window(board: Board) -> str:
    """The window a read without `window=` is about: all-time if kept, else the first."""
    return "all" if "all" in board.windows else board.windows[0]


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


def stored_boards(board: Board, at_us: int) -> list[Board]:
    """Every stored board of `board` at `at_us`: itself and its windows' current and kept
    periods (what deleting, rebuilding or reconciling the board covers)."""
    out = [board]
    for spec in board.windows:
        window = w.parse_window(spec)
        if window.kind is w.WindowKind.ALL:
            continue
        current = w.period_at(window, board.timezone, at_us)
        kept = w.previous_periods(window, board.timezone, at_us, board.keep_periods)
        out += [board.renamed(w.period_board(board.name, window, p.id)) for p in [current, *kept]]
    return out


async def with_periods(boards: Boards, names: Sequence[str]) -> list[Board]:
    """The named boards, each followed by its windows' stored boards."""
    at = now_us()
    out: list[Board] = []
    for name in names:
        board = await boards.get(name)
        out += stored_boards(board, at) if board.parent is None else [board]
    return out


def kept_period_boards(board: Board, at_us: int) -> list[Board]:
    """The boards of the finished periods `board` keeps, at `at_us`."""
    out = []
    for spec in board.windows:
        window = w.parse_window(spec)
        for p in w.previous_periods(window, board.timezone, at_us, board.keep_periods):
            out.append(board.renamed(w.period_board(board.name, window, p.id)))
    return out


def window_of(board: Board, spec: str) -> w.Window:
    """A window the board keeps, by its spec; refused if the board keeps no such window."""
    if spec not in board.windows:
        raise UnknownWindow(f"board {board.name!r} keeps no window {spec!r} (it keeps: {', '.join(board.windows)})")
    return w.parse_window(spec)


def period_board_at(board: Board, spec: str, period_id: str | None, at_us: int) -> Board:
    """The stored board of `board`'s window `spec` in period `period_id` (None: the current
    one), refused for a period it no longer keeps or that has not begun."""
    window = window_of(board, spec)
    if window.kind is w.WindowKind.ALL:
        if period_id not in (None, "all"):
            raise w.WindowError("the all-time window has one period, 'all'", code="invalid_period")
        return board
    current = w.period_at(window, board.timezone, at_us)
    if period_id is None or period_id == current.id:
        return board.renamed(w.period_board(board.name, window, current.id))
    period = w.parse_period(window, board.timezone, period_id)
    if period.start_us > current.start_us:
        raise w.WindowError(f"period {period_id!r} has not begun", code="invalid_period")
    kept = {p.id for p in w.previous_periods(window, board.timezone, at_us, board.keep_periods)}
    if period.id not in kept:
        raise PeriodNotKept(
            f"period {period_id!r} of window {spec!r} is older than the {board.keep_periods} periods kept"
        )
    return board.renamed(w.period_board(board.name, window, period.id))


def resolve_stored(base: Board, name: str) -> Board:
    """The board a stored period board's name denotes: `base`'s settings under that name."""
    return base.renamed(name)


def periods_json(board: Board, spec: str, at_us: int) -> dict[str, Any]:
    window = window_of(board, spec)
    current = w.period_at(window, board.timezone, at_us)
    kept = w.previous_periods(window, board.timezone, at_us, board.keep_periods)

    def period(p: w.Period) -> dict[str, Any]:
        return {
            "period": p.id,
            "start_us": p.start_us if window.kind is not w.WindowKind.ALL else None,
            "end_us": p.end_us,
        }

    return {
        "board": board.name,
        "window": spec,
        "timezone": board.timezone,
        "current": period(current),
        "kept": [period(p) for p in kept],
        "next_reset_us": w.next_reset_us(window, board.timezone, at_us),
    }


class UnknownWindow(InvalidInput):
    code = "unknown_window"


class PeriodNotKept(NotFound):
    code = "period_not_kept"


def expired_period_boards(board: Board, at_us: int, *, reach: int = 2) -> list[str]:
    """The stored boards of the `reach` periods just older than those `board` keeps:
    what expiry drops. Run at least once a period, it catches each expired period."""
    out = []
    for spec in board.windows:
        window = w.parse_window(spec)
        older = w.previous_periods(window, board.timezone, at_us, board.keep_periods + reach)
        out += [w.period_board(board.name, window, p.id) for p in older[board.keep_periods :]]
    return out


async def drop_expired_periods(
    store: Store, boards: Boards, index: GenerationalRankIndex, at_us: int, history: RankHistory | None = None
) -> int:
    """Delete the totals, rank index and rank history points of every board's periods that
    are no longer kept."""
    dropped = 0
    for name in await boards.names():
        board = await boards.find(name)
        if board is None or board.windows == ("all",):
            continue
        expired = expired_period_boards(board, at_us)
        if not expired:
            continue
        if history is not None:
            await forget_boards(history, store, expired)  # first: the totals name the users
        await store.delete_board(expired)
        for stored in expired:
            await index.drop_board(board.renamed(stored))
        dropped += len(expired)
    return dropped


def where(board: Board) -> dict[str, Any]:
    """How an answer names the board it read: the board, and the window and period."""
    stored = w.split_period_board(board.name) if board.parent is not None else None
    if stored is None:
        return {"board": board.name}
    base, code, period = stored
    spec = next((s for s in board.windows if w.parse_window(s).code == code), code)
    return {"board": base, "window": spec, "period": period}
