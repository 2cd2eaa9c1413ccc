"""Totals, the events that change them, and the "apply only if newer" rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import orjson

from podium.domain.boards import Board, Operator, better, combine


@dataclass(frozen=True, slots=True, order=True)
class LogPosition:
    """Where a record sits in the ingest log: one user's events share a partition."""

    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class ScoreSubmitted:
    board: str
    user_id: str
    score: int
    key: str | None
    submitted_at_us: int
    subscore: int = 0
    operator: Operator | None = None  # an override of the board's, where the board allows it
    display_name: str | None = None  # None: keep the entry's
    metadata: str | None = None  # compact JSON text; None: keep the entry's
    region: str | None = None  # where it was accepted (docs/global.md); None: a record from before regions


@dataclass(frozen=True, slots=True)
class UserRemoved:
    board: str
    user_id: str
    submitted_at_us: int
    region: str | None = None


@dataclass(frozen=True, slots=True)
class UserHidden:
    """A shadow-ban (hidden True) or its lifting: the total stays, others stop seeing it."""

    board: str
    user_id: str
    hidden: bool
    submitted_at_us: int
    region: str | None = None


Event = ScoreSubmitted | UserRemoved | UserHidden


@dataclass(frozen=True, slots=True)
class Total:
    """A user's total on a board, as the store keeps it and the change feed carries it.

    `version` grows by one with every event applied for the user, so any copy of
    the total (rank index, caches) can ignore a change that is not newer.
    `position` is the log record that produced it, so a redelivered record is
    recognised. `reached_at_us` is when the user first reached this total: the
    tie-break (who reached a score first ranks higher). A removed user is kept as a
    tombstone (`removed`) so that versions keep growing across a removal.
    """

    board: str
    user_id: str
    total: int
    version: int
    reached_at_us: int
    position: LogPosition
    removed: bool = False
    updated_at_us: int = 0  # when the newest applied event was submitted (end-to-end latency)
    subscore: int = 0  # the first tie-break, on a board with a subscore order
    best_total: int = 0  # the best total the user ever had here (personal best)
    hidden: bool = False  # shadow-banned: kept, but ranked for no one else
    display_name: str = ""
    metadata: str = ""  # compact JSON text, "" for none
    # The region the user's events on this board enter through: its first event's, kept for
    # good (docs/global.md). "" for a total written before regions were recorded.
    region: str = ""
    # The totals a user passed through within the db-worker's batch that wrote this one, oldest
    # first, each `[version, total, subscore, reached_at_us, updated_at_us]`, as compact JSON
    # ("" for none): the store holds one total a user a batch, and the rank history has a
    # point for every change (`steps_of`). Kept only while the history is on.
    steps: str = ""

    @property
    def ranked(self) -> bool:
        """Whether others see the user on the board."""
        return not self.removed and not self.hidden


def is_redelivery(current: Total | None, position: LogPosition) -> bool:
    """True if the record at `position` has already been applied to `current`.

    Valid because all events of one (board, user) go through one log partition
    in order, so the positions applied to a user only grow.
    """
    return (
        current is not None
        and current.position.partition == position.partition
        and position.offset <= current.position.offset
    )


def entered_elsewhere(current: Total | None, region: str) -> str | None:
    """The region the user enters this board through, if it is not `region`: an event from
    `region` must be refused. Positions in two regions' logs do not compare, so a later event
    could pass for a redelivery of an earlier one (is_redelivery) and be lost; one region per
    user keeps them in one log. A total or an event of unknown region ("") is not refused."""
    if current is None or not current.region or not region or current.region == region:
        return None
    return current.region


def apply_event(
    board: Board,
    current: Total | None,
    event: Event,
    position: LogPosition,
    *,
    duplicate_key: bool = False,
    region: str = "",
) -> Total:
    """The user's total on `board` after `event` (`board` may be one of the event's board's
    window periods), which entered through `region`; the caller has ruled out redelivery and
    another region (entered_elsewhere).

    Every applied event produces a new version, even one that leaves the total as
    it was (a worse score on a `best` board, a retried idempotency key): the new
    version carries the event's log position, which is how a reader knows the
    event has been processed and is visible.
    """
    version = current.version + 1 if current is not None else 1
    # The first region recorded stays the user's, through removals too: positions stay compared.
    region = current.region if current is not None and current.region else region
    now = event.submitted_at_us
    live = current if current is not None and not current.removed else None
    hidden = current.hidden if current is not None else False  # a ban outlives a removal
    if isinstance(event, UserHidden):
        if current is None:  # banned before any score: the ban waits for the first one
            return Total(
                board.name, event.user_id, 0, version, now, position, True, now, hidden=event.hidden, region=region
            )
        return replace(
            current, version=version, position=position, updated_at_us=now, hidden=event.hidden, region=region
        )
    if isinstance(event, UserRemoved):
        return Total(board.name, event.user_id, 0, version, now, position, True, now, hidden=hidden, region=region)
    if duplicate_key:
        if current is None:
            return Total(board.name, event.user_id, 0, version, now, position, True, now, region=region)
        return replace(current, version=version, position=position, updated_at_us=now, region=region)
    operator = event.operator or board.operator
    before = (live.total, live.subscore) if live is not None else None
    new_total, new_sub = combine(board, operator, before, event.score, event.subscore)
    # A user who already had this total reached it earlier: keeps its place among equals.
    reached = live.reached_at_us if live is not None and before == (new_total, new_sub) else now
    best = new_total if live is None or better(board.order, new_total, live.best_total) else live.best_total
    return Total(
        board.name,
        event.user_id,
        new_total,
        version,
        reached,
        position,
        False,
        now,
        new_sub,
        best,
        hidden,
        event.display_name if event.display_name is not None else (live.display_name if live else ""),
        event.metadata if event.metadata is not None else (live.metadata if live else ""),
        region,
    )


def newest_per_user(totals: Sequence[Total]) -> list[Total]:
    """Of several totals of one user in a batch, the one with the highest version."""
    newest: dict[str, Total] = {}
    for t in totals:
        if t.user_id not in newest or t.version > newest[t.user_id].version:
            newest[t.user_id] = t
    return list(newest.values())


def is_newer(candidate: Total, current: Total | None) -> bool:
    """The rank index's rule: apply a total only if it is newer than what it holds."""
    return current is None or candidate.version > current.version


def with_step(before: Total, new: Total, keep: int) -> Total:
    """`new`, written in the same batch as `before` (the user's total one event earlier),
    carrying `before` as its newest step, and at most `keep` steps in all (the oldest go)."""
    steps = orjson.loads(before.steps) if before.steps else []
    if not before.removed:
        steps.append([before.version, before.total, before.subscore, before.reached_at_us, before.updated_at_us])
    return replace(new, steps=orjson.dumps(steps[-keep:]).decode() if steps and keep > 0 else "")


def steps_of(t: Total) -> list[Total]:
    """The totals `t` passed through within its batch (`Total.steps`), as totals, oldest first."""
    if not t.steps:
        return []
    return [
        replace(
            t, version=v, total=total, subscore=sub, reached_at_us=reached, updated_at_us=at, removed=False, steps=""
        )
        for v, total, sub, reached, at in orjson.loads(t.steps)
    ]
