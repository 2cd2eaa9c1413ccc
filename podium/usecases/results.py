"""A finished period's results: its final standings, read from the store (the source of
truth), not from the rank index, which may still be catching up when the period's last
scores reached the store. The totals are ranked by a plain in-memory index through
`Standings`, so the tie rule is the one every other reader uses.

Which periods are finished and whether they are final (the store holds every score
accepted before the end) is the caller's: podium/usecases/deliveries.py and
podium/api/results.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import podium.domain.windows as w
from podium.domain.boards import Board
from podium.index.base import Entry
from podium.index.memory import MemoryRankIndex
from podium.store.base import Store, board_totals
from podium.usecases.standings import Standings


@dataclass(frozen=True, slots=True)
class Results:
    board: str  # the board asked about (not the stored period board)
    window: str
    period: w.Period
    count: int  # the users ranked (hidden ones are not)
    entries: list[Entry]  # from position `first` on

    def to_json(self) -> dict[str, Any]:
        return {
            "board": self.board,
            "window": self.window,
            "period": self.period.id,
            "start_us": self.period.start_us,
            "end_us": self.period.end_us,
            "count": self.count,
            "entries": [e.to_json() for e in self.entries],
        }


async def final_standings(
    store: Store, board: Board, stored: Board, window: str, period: w.Period, first: int, count: int
) -> Results:
    """`count` entries from position `first` (1-based) of the stored board `stored` (a period
    board of `board`'s window), as the store holds them now."""
    index = MemoryRankIndex()
    index.apply_now(stored, await board_totals(store, stored.name))
    standings = Standings(index)
    entries = await standings.page(stored, first, count) if count > 0 else []
    return Results(board.name, window, period, await standings.count(stored), entries)


MAX_REACH = 64


def ended_periods(board: Board, until_us: int, reach: int, reach_s: float = 0.0) -> list[tuple[str, w.Period]]:
    """(window spec, period) of each window's last `reach` periods that ended at or before
    `until_us`, and of every one (up to MAX_REACH) that ended within `reach_s` of it (never
    the all-time window's), oldest first: what may be announced."""
    out = []
    for spec in board.windows:
        window = w.parse_window(spec)
        if window.kind is w.WindowKind.ALL:
            continue
        periods = w.previous_periods(window, board.timezone, until_us, reach)
        since_us = until_us - int(reach_s * 1_000_000)
        if periods and periods[-1].start_us > since_us:  # a short window: look further back, by time
            more = w.previous_periods(window, board.timezone, until_us, MAX_REACH)
            periods = [p for i, p in enumerate(more) if i < reach or (p.end_us or 0) > since_us]
        out += [(spec, p) for p in periods]
    return sorted(out, key=lambda sp: (sp[1].start_us, sp[0]))
