"""A tournament's periods: which one is active at an instant, and when the next starts.

Without `reset` a tournament has one period, "once": [start, start + duration_s), cut at
`end`. With `reset` its periods are the cron window's (domain/windows.py, in the board's
time zone, DST and all): the period of the window holding an instant is active from its
fire time (or `start`, if later) for `duration_s` (or to the next fire), and never at or
after `end`. An instant in no active period is *closed*. Each period's id is the window's
(its fire time as written), so a tournament's joins and attempts are counted per period
and its scores ranked in the board's `cron:<reset>` window, whose periods are the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from podium.domain import windows
from podium.domain.tournaments import Tournament

ONCE = "once"
_LOOKAHEAD = 8  # periods looked at for the next start (cut short by `start` or `end`)


@dataclass(frozen=True, slots=True)
class TournamentPeriod:
    """An active period: [start_us, end_us) in UTC microseconds."""

    id: str
    start_us: int
    end_us: int

    def contains(self, at_us: int) -> bool:
        return self.start_us <= at_us < self.end_us


def reset_window(tournament: Tournament) -> windows.Window | None:
    """The cron window whose periods the tournament's are (None: it never resets)."""
    return windows.parse_window(f"cron:{tournament.reset}") if tournament.reset is not None else None


def check_reset(tournament: Tournament, board_windows: tuple[str, ...]) -> str | None:
    """Why a board cannot carry the tournament, or None: a reset must be a cron expression, and
    its window one the board keeps, so that each period is ranked on its own."""
    window = reset_window(tournament)
    if window is None:
        return None
    kept = {windows.parse_window(spec).spec for spec in board_windows}
    if window.spec not in kept:
        return f"a tournament with reset {tournament.reset!r} needs the board's windows to keep {window.spec!r}"
    return None


def _cut(tournament: Tournament, period_id: str, start_us: int, end_us: int | None) -> TournamentPeriod | None:
    """The active part of a cycle [start_us, end_us) (None for the one-shot's never-ending
    cycle), or None if nothing of it is active."""
    begin = max(start_us, tournament.start_us)
    ends = [e for e in (end_us, tournament.end_us) if e is not None]
    if tournament.duration_s is not None:
        ends.append(start_us + tournament.duration_s * 1_000_000)
    finish = min(ends)  # check_tournament: a duration or an end, so never empty
    return TournamentPeriod(period_id, begin, finish) if begin < finish else None


def _cycle(tournament: Tournament, tz: str, at_us: int) -> tuple[str, int, int | None]:
    """The cycle holding `at_us`: the reset window's period, or the one-shot's from its start."""
    window = reset_window(tournament)
    if window is None:
        return ONCE, tournament.start_us, None
    period = windows.period_at(window, tz, at_us)
    return period.id, period.start_us, period.end_us


def active_period(tournament: Tournament, tz: str, at_us: int) -> TournamentPeriod | None:
    """The active period holding `at_us`, or None: the tournament is closed then."""
    if at_us < tournament.start_us:
        return None
    found = _cut(tournament, *_cycle(tournament, tz, at_us))
    return found if found is not None and found.contains(at_us) else None


def next_period(tournament: Tournament, tz: str, at_us: int) -> TournamentPeriod | None:
    """The first active period starting after `at_us` (None: none is left)."""
    at = max(at_us, tournament.start_us)
    for _ in range(_LOOKAHEAD):
        if tournament.end_us is not None and at >= tournament.end_us:
            return None
        period_id, start_us, end_us = _cycle(tournament, tz, at)
        found = _cut(tournament, period_id, start_us, end_us)
        if found is not None and found.start_us > at_us:
            return found
        if end_us is None:  # the one-shot has no cycle after its own
            return None
        at = end_us
    return None


def period_by_id(tournament: Tournament, tz: str, period_id: str) -> TournamentPeriod | None:
    """The active period named `period_id` (None: no such period, or nothing of it is active)."""
    window = reset_window(tournament)
    if window is None:
        return _cut(tournament, ONCE, tournament.start_us, None) if period_id == ONCE else None
    try:
        cycle = windows.parse_period(window, tz, period_id)
    except windows.WindowError:
        return None
    return _cut(tournament, cycle.id, cycle.start_us, cycle.end_us)
