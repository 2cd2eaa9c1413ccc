"""Tournaments (api/tournaments.py): a board's `tournament` setting, its state, joins, the list."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from podium.api.contract.fields import Id
from podium.domain.tournaments import MAX_ATTEMPTS, MAX_DURATION_S, MAX_PLAYERS

Instant = Annotated[str, Meta(description="An RFC 3339 instant with an offset, such as 2026-12-07T18:00:00Z")]
MaybeInstant = Annotated[str | None, Meta(description="An RFC 3339 instant in UTC; null: none")]
DurationS = Annotated[int, Meta(ge=1, le=MAX_DURATION_S, description="Each period's active length, in seconds")]
Reset = Annotated[
    str,
    Meta(
        description="A cron expression (5 fields, or @daily …) in the board's time zone: a new period at each "
        "fire time. The board's windows must keep cron:<the same expression>, so each period ranks on its own"
    ),
]
MaxPlayers = Annotated[int, Meta(ge=1, le=MAX_PLAYERS, description="Places in a period (needs join_required)")]
MaxAttempts = Annotated[int, Meta(ge=1, le=MAX_ATTEMPTS, description="Submissions a player makes in a period")]
JoinRequired = Annotated[bool, Meta(description="Only players who joined the period may submit")]


class TournamentSettings(Struct, forbid_unknown_fields=True):
    """A tournament on the board, fixed at creation: periods from `start`, each active for
    `duration_s` or until `end` (at least one of them), again after each `reset`."""

    start: Instant
    duration_s: DurationS | None = None
    end: Instant | None = None
    reset: Reset | None = None
    max_players: MaxPlayers | None = None
    join_required: JoinRequired = False
    max_attempts: MaxAttempts | None = None


class TournamentState(Struct, kw_only=True):
    """Whether a period is active now, which, when it ends, when the next starts, and how many
    players joined the current one (0 when closed)."""

    active: bool
    period: Annotated[str | None, Meta(description="The active period's id (once, or its reset's fire time)")]
    ends_at: MaybeInstant
    next_start: MaybeInstant
    players: Annotated[int, Meta(ge=0)]


class Tournament(TournamentState, kw_only=True):
    """A board's tournament: its settings and its state now."""

    start: Instant
    duration_s: DurationS | UnsetType = UNSET
    end: Instant | UnsetType = UNSET
    reset: Reset | UnsetType = UNSET
    max_players: MaxPlayers | UnsetType = UNSET
    join_required: JoinRequired
    max_attempts: MaxAttempts | UnsetType = UNSET


class ListedTournament(TournamentState, kw_only=True):
    board: Id


class TournamentList(Struct):
    tournaments: list[ListedTournament]


# As a query sends it: true or false, and also 1, yes, 0, no (any case); empty is false (api/requests.bool_param).
Flag = bool | Literal["", "1", "yes", "0", "no"]


class TournamentsQuery(Struct):
    active: (
        Annotated[Flag, Meta(description="Only the tournaments active now (true) or not (false); absent: all")]
        | UnsetType
    ) = UNSET


class Player(Struct, kw_only=True):
    """A player's place in the active period."""

    board: Id
    user_id: Id
    period: str
    joined: Annotated[bool, Meta(description="true: the place was taken now; false: it was held already")]
    players: Annotated[int, Meta(ge=0)]


TYPES = (TournamentSettings, Tournament, TournamentList, Player)
