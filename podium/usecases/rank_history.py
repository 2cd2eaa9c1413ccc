"""A user's rank history on a board, as a read answers it: the points the rank-worker kept
(podium/history/), and on a windowed board each finished period's final rank.

A window's periods are stored boards of their own (podium/usecases/period_boards.py), and the
rank-worker keeps points per stored board; a read of window `w` merges the points of its
current period and of the finished periods the board keeps, newest first. A finished period
takes no more submissions, so its rank index holds the final standings until expiry drops
it: its final rank is read from there at read time (one index read per kept period), never
written by a job at the period's end, and so never missed by a process that was down then.
A period older than the `keep_periods` kept is dropped with its final rank and its points;
a deleted board, with every point on it (`forget_boards`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import podium.domain.windows as w
from podium.domain.boards import Board
from podium.domain.tournaments import instant_text
from podium.history.base import RankHistory
from podium.store.base import Store
from podium.usecases.standings import Standings


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    at_us: int
    score: int
    rank: int
    period: str | None = None  # the window's period it belongs to (None: the all-time window)
    final: bool = False  # the period's final rank, at its end

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "at": instant_text(self.at_us),
            "at_us": self.at_us,
            "score": self.score,
            "rank": self.rank,
        }
        if self.period is not None:
            out["period"] = self.period
            out["final"] = self.final
        return out


class History:
    def __init__(self, kept: RankHistory | None, standings: Standings, *, points: int) -> None:
        self._kept = kept  # None: history is off (PODIUM_HISTORY_POINTS=0)
        self._standings = standings
        self._points = points

    async def forget_boards(self, store: Store, names: Sequence[str]) -> None:
        """Drop every point on these stored boards (the board is deleted): see `forget_boards`."""
        if self._kept is not None:
            await forget_boards(self._kept, store, names)

    async def read(
        self, board: Board, spec: str, user_id: str, *, from_us: int | None, to_us: int | None, limit: int, now_us: int
    ) -> list[HistoryPoint]:
        """Up to `limit` of the user's points in window `spec` of `board` (a board as created),
        with `from_us <= at_us <= to_us`, newest first."""
        if self._kept is None:
            return []
        limit = min(limit, self._points)
        window = w.parse_window(spec)
        if window.kind is w.WindowKind.ALL:
            kept = await self._kept.points(board.name, user_id, from_us=from_us, to_us=to_us, limit=limit)
            return [HistoryPoint(p.at_us, p.score, p.rank) for p in kept]
        current = w.period_at(window, board.timezone, now_us)
        finished = w.previous_periods(window, board.timezone, now_us, board.keep_periods)
        out: list[HistoryPoint] = []
        for period in [current, *finished]:  # newest first
            stored = board.renamed(w.period_board(board.name, window, period.id))
            if period is not current and period.end_us is not None and _within(period.end_us, from_us, to_us):
                entry = await self._standings.entry(stored, user_id)
                if entry is not None:
                    out.append(HistoryPoint(period.end_us, entry.score, entry.rank, period.id, final=True))
            kept = await self._kept.points(stored.name, user_id, from_us=from_us, to_us=to_us, limit=limit)
            out += [HistoryPoint(p.at_us, p.score, p.rank, period.id) for p in kept]
            if len(out) >= limit:
                break
        return out[:limit]


async def forget_boards(kept: RankHistory, store: Store, names: Sequence[str], *, chunk_size: int = 1000) -> None:
    """Drop every point on these stored boards, before their totals are deleted: the users
    with a total there are the users with points there (a point is written for a change of
    a total), and the distributed history finds a point by its user. A board made again
    under the name, or a period that comes round again, then shows none of the old points."""
    for name in names:
        async for chunk in store.totals_of(name, chunk_size):
            await kept.forget_users(name, [t.user_id for t in chunk])


def _within(at_us: int, from_us: int | None, to_us: int | None) -> bool:
    return (from_us is None or at_us >= from_us) and (to_us is None or at_us <= to_us)
