"""When a user's tier changes (the webhook event `tier_changed`, issue 22): pure, no I/O.

A tier by score (`min_score`) follows the user's own total, so its change is a fact of two
consecutive totals of one user: the tier of version v against the tier of the version
before it. That makes each change name itself by the total that made it (version and log
position, `TierChange.subject`): however the change feed's batches fall, however often a
batch is read again, the same change has the same name, and a delivery recorded under it
is recorded once (podium/usecases/tier_changes.py).

A tier by place (`top_percent`) moves when *others* score: one score may move thousands
of users across a cut-off, and none of them did anything. Those passive changes are not
sent, and neither is the changed user's own change on such a board: its place before a
change is not a fact of its totals (it depends on what the index held of everybody else
when the batch was read), so it could not be named the same on a batch read twice. A board
whose tiers include one by place sends no `tier_changed` (README, "Results delivered").

What counts as a change, and why:

- The store holds one total a user per db-worker batch; the totals the user passed through
  in that batch ride along as its steps (`Total.steps`, kept while the rank history is on,
  the default) and are compared too, so a change is told at the very total that made it
  (100, not the 120 written after it in the same batch). Without steps
  (PODIUM_HISTORY_POINTS=0), totals are compared as the store wrote them: a user who
  crosses a cut-off and back within one db-worker batch (milliseconds) sends nothing.
- A removal is no tier change (the user left the board; nothing is sent), and a user
  coming back is measured from no tier (null).
- A shadow-banned user's total still changes and so does its tier: the event goes to the
  operator's own server, not to other players, as the user's own view would show it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from podium.domain.boards import Board, Order
from podium.domain.cohorts import needs_count, tier_of
from podium.domain.totals import LogPosition, Total, steps_of
from podium.domain.windows import parse_window, split_period_board


@dataclass(frozen=True, slots=True)
class Held:
    """What the rank index holds of a user before a batch is applied: the position of the
    newest total applied (None: nothing yet), its score (None: not ranked, i.e. removed) and
    its version (None: nothing yet, or not known)."""

    position: LogPosition | None
    score: int | None
    version: int | None = None


@dataclass(frozen=True, slots=True)
class TierChange:
    total: Total  # the total that changed the tier
    previous: str | None
    tier: str | None


@dataclass(frozen=True, slots=True)
class Where:
    """Where a change happened: the board the user made, the window and (not "all") the period."""

    board: str
    window: str
    period: str | None

    def subject(self, change: TierChange) -> str:
        """What the delivery is about: "<board>/<window>[/<period>]/<user>/<version>"."""
        period = f"/{self.period}" if self.period is not None else ""
        return f"{self.board}/{self.window}{period}/{change.total.user_id}/{change.total.version}"


def sends_changes(board: Board) -> bool:
    """Whether the board's tiers change only with the user's own total (every tier by score)."""
    return bool(board.tiers) and not needs_count(board.tiers)


def tier_by_score(board: Board, score: int) -> str | None:
    return tier_of(board.tiers, board.order is Order.DESC, score, 0, 0)


def is_newer(position: LogPosition, held: LogPosition | None) -> bool:
    """Whether a total at `position` is newer than the one the index holds: a user's events
    go through one log partition in order (domain.totals.is_redelivery), so its positions
    there only grow; a total from another partition is taken as newer, as a version would be."""
    return held is None or position.partition != held.partition or position.offset > held.offset


def changes(board: Board, held: Held, totals: Sequence[Total]) -> list[TierChange]:
    """The tier changes of one user's `totals` (from the change feed, any order, repeats
    allowed) after what the index `held`: each total newer than it, and each of its steps
    above the version it holds, in version order, against the one before it. Only for
    boards where `sends_changes`."""
    fresh = [t for t in totals if is_newer(t.position, held.position)]
    # A step shares its total's position (it is part of that write): newer with it or not at all.
    newer = {s.version: s for t in fresh for s in steps_of(t)}
    newer.update((t.version, t) for t in fresh)  # a total as written wins over a step of the same version
    if held.version is not None:
        # A fresh total's steps may reach back past what the index holds: at depth > 2 the
        # db-worker carries the user's totals still in flight as steps, each with its own, and
        # those totals' own changes may have come (and been told) first. A version at or
        # below the index's is history told already; measured from the held score it would
        # tell a crossing backwards (silver to none at the first total) and the first again.
        newer = {v: t for v, t in newer.items() if v > held.version}
    before = tier_by_score(board, held.score) if held.score is not None else None
    out = []
    for version in sorted(newer):
        t = newer[version]
        if t.removed:
            before = None  # a removal sends nothing; a return is measured from no tier
            continue
        tier = tier_by_score(board, t.total)
        if tier != before:
            out.append(TierChange(t, before, tier))
        before = tier
    return out


def where(board: Board) -> Where:
    """The board, window and period a (stored) board ranks: a window's period board is
    "<board>~<window code>~<period>", its window read back from the board's own windows."""
    split = split_period_board(board.name) if board.parent is not None else None
    if split is None:
        return Where(board.name, "all", None)
    base, code, period = split
    window = next((s for s in board.windows if parse_window(s).code == code), code)
    return Where(base, window, period)
