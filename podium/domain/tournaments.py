"""A board's tournament setting (issue 22): when it runs, who may play, how often.

A tournament is a board whose scores count only while a period of it is *active*: from
`start`, for `duration_s` (or until `end`), again after each `reset` (a cron schedule in
the board's time zone) when there is one. Joining (`join_required`) and the number of
players (`max_players`) and of submissions a player makes in a period (`max_attempts`)
are counted per period. The period arithmetic is in `tournament_periods.py`; this
module is the setting alone, so that `boards.py` can hold it without the windows' maths.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

MAX_PLAYERS = 100_000  # a period's players are counted in the store: bounded
MAX_ATTEMPTS = 10_000
MAX_DURATION_S = 10 * 366 * 86_400
RULES = ("closed", "not_joined", "attempts")  # a refused submission's `rule`

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FIRST = datetime(1900, 1, 1, tzinfo=UTC)
_LAST = datetime(9000, 1, 1, tzinfo=UTC)
_FIELDS = ("start", "duration_s", "end", "reset", "max_players", "join_required", "max_attempts")


@dataclass(frozen=True, slots=True)
class Tournament:
    start_us: int
    duration_s: int | None = None  # each period's active length from its start
    end_us: int | None = None  # no period is active at or after it
    reset: str | None = None  # a cron expression: a new period at each fire time
    max_players: int | None = None
    join_required: bool = False
    max_attempts: int | None = None  # submissions a player makes in one period

    def to_json(self) -> dict[str, Any]:
        """The setting as a client writes it: optional parts only when set."""
        shown: dict[str, Any] = {"start": instant_text(self.start_us)}
        if self.duration_s is not None:
            shown["duration_s"] = self.duration_s
        if self.end_us is not None:
            shown["end"] = instant_text(self.end_us)
        if self.reset is not None:
            shown["reset"] = self.reset
        if self.max_players is not None:
            shown["max_players"] = self.max_players
        shown["join_required"] = self.join_required
        if self.max_attempts is not None:
            shown["max_attempts"] = self.max_attempts
        return shown

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Tournament:
        """A stored setting (checked when it was written)."""
        end = body.get("end")
        return cls(
            instant_us(body["start"]),
            body.get("duration_s"),
            instant_us(end) if end is not None else None,
            body.get("reset"),
            body.get("max_players"),
            bool(body.get("join_required", False)),
            body.get("max_attempts"),
        )


def instant_us(text: str) -> int:
    """An RFC 3339 instant ("2026-12-07T18:00:00Z", or with an offset) in UTC microseconds."""
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise ValueError("no offset")
    return (at - _EPOCH) // timedelta(microseconds=1)


def instant_text(at_us: int) -> str:
    """UTC microseconds as an RFC 3339 instant with "Z" (whole seconds without a fraction)."""
    at = _EPOCH + timedelta(microseconds=at_us)
    spec = "seconds" if at.microsecond == 0 else "microseconds"
    return at.isoformat(timespec=spec).replace("+00:00", "Z")


def check_tournament(body: Any) -> Tournament | str:
    """The setting `tournament` as parsed JSON, or why it is invalid. The `reset`'s cron
    expression is the windows' to check (tournament_periods.check_reset)."""
    if not isinstance(body, dict):
        return "tournament must be a JSON object"
    unknown = sorted(set(body) - set(_FIELDS))
    if unknown:
        return f"unknown tournament setting {unknown[0]!r} (settings: {', '.join(_FIELDS)})"
    start = _instant(body.get("start"), "start")
    if isinstance(start, str):
        return start
    end = _instant(body["end"], "end") if body.get("end") is not None else None
    if isinstance(end, str):
        return end
    duration = body.get("duration_s")
    if duration is not None and not (type(duration) is int and 1 <= duration <= MAX_DURATION_S):
        return f"tournament.duration_s must be an integer from 1 to {MAX_DURATION_S}"
    if duration is None and end is None:
        return "tournament needs duration_s or end (or both)"
    if end is not None and end <= start:
        return "tournament.end must be after tournament.start"
    reset = body.get("reset")
    if reset is not None and (not isinstance(reset, str) or not reset.strip()):
        return "tournament.reset must be a cron expression"
    for name, top in (("max_players", MAX_PLAYERS), ("max_attempts", MAX_ATTEMPTS)):
        value = body.get(name)
        if value is not None and not (type(value) is int and 1 <= value <= top):
            return f"tournament.{name} must be an integer from 1 to {top}"
    join = body.get("join_required", False)
    if not isinstance(join, bool):
        return "tournament.join_required must be true or false"
    if body.get("max_players") is not None and not join:
        # Players are counted when they join; a submission does not join anyone (yet).
        return "tournament.max_players needs join_required: true"
    return Tournament(
        start,
        duration,
        end,
        " ".join(reset.split()) if reset is not None else None,
        body.get("max_players"),
        join,
        body.get("max_attempts"),
    )


def _instant(value: Any, name: str) -> int | str:
    if not isinstance(value, str):
        return f"tournament.{name} must be an RFC 3339 instant such as 2026-12-07T18:00:00Z"
    try:
        at = instant_us(value)
    except ValueError:
        return f"tournament.{name} must be an RFC 3339 instant with an offset, such as 2026-12-07T18:00:00Z"
    if not (_FIRST - _EPOCH) // timedelta(microseconds=1) <= at < (_LAST - _EPOCH) // timedelta(microseconds=1):
        return f"tournament.{name} must be within the years 1900-8999"
    return at
