"""Board settings and boards (api/boards.py): create, change, read, list."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from podium.api.contract.fields import Id, Score
from podium.api.contract.tournaments import Tournament, TournamentSettings
from podium.domain import boards as domain
from podium.domain.boards import MAX_KEEP_PERIODS, MAX_SCORE, Operator, Order, Reads, Tie
from podium.domain.cohorts import MAX_COHORT_SIZE, MAX_TIER_NAME_CHARS, MAX_TIERS
from podium.domain.rules import MAX_SUBMISSIONS_PER_MINUTE
from podium.domain.windows import MAX_WINDOWS

Window = Annotated[str, Meta(description="all | day | week | month | cron:<5-field cron expression>")]
Windows = Annotated[tuple[Window, ...], Meta(min_length=1, max_length=MAX_WINDOWS)]
KeepPeriods = Annotated[int, Meta(ge=0, le=MAX_KEEP_PERIODS, description="Finished periods kept")]
ReadsSetting = Annotated[
    Reads, Meta(description="public: anyone may read the board, without a key; key: reads need an API key")
]
TieSetting = Annotated[
    Tie, Meta(description="unique: 1,2,3,4 (who reached it first is ahead); competition: 1,2,2,4; dense: 1,2,2,3")
]


class Rules(Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Score rules, each optional (absent or null: off); a submission that breaks one is a 422
    score_rule. max_change bounds an incr/decr amount, and for best/set the distance from the
    user's current total (a user without one: only the bounds apply). PATCH replaces the whole
    object."""

    # omit_defaults: a board's answer shows only the rules that are set ({}: none).

    min_score: Score | None = None
    max_score: Score | None = None
    max_change: Annotated[int, Meta(ge=0, le=MAX_SCORE)] | None = None
    max_submissions_per_minute: (
        Annotated[
            int,
            Meta(
                ge=1,
                le=MAX_SUBMISSIONS_PER_MINUTE,
                description="Per user; a replay of the same idempotency key within the minute counts once",
            ),
        ]
        | None
    ) = None


CohortSize = Annotated[
    int,
    Meta(
        ge=2,
        le=MAX_COHORT_SIZE,
        description="Users per cohort, fixed at creation: each new user joins the first cohort with room, "
        "in arrival order; reads take cohort=me (with user_id) or cohort=<id> and rank within it",
    ),
]


class TierSetting(Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A named cut-off: by score (min_score: the total reaches it by the board's order) or by place
    (top_percent: rank <= ceil(users x p / 100), within the cohort on a board with cohorts). An
    entry's tier is the first in the list it reaches; none: null."""

    name: Annotated[str, Meta(min_length=1, max_length=MAX_TIER_NAME_CHARS)]
    min_score: Score | None = None
    top_percent: Annotated[float, Meta(gt=0, le=100)] | None = None


Tiers = Annotated[list[TierSetting], Meta(max_length=MAX_TIERS)]

NEW = domain.Board("")  # a board as the domain makes it: the settings' defaults


class BoardSettings(Struct, forbid_unknown_fields=True):
    """A new board's settings, each optional."""

    order: Order = NEW.order
    operator: Operator = NEW.operator
    tie: TieSetting = NEW.tie
    subscore_order: (
        Annotated[Order, Meta(description="The subscore's order, the first tie-break; null: the board has no subscore")]
        | None
    ) = NEW.subscore_order
    windows: Windows = NEW.windows
    timezone: Annotated[str, Meta(description="IANA time zone of the windows' resets")] = NEW.timezone
    keep_periods: KeepPeriods = NEW.keep_periods
    allow_operator_override: bool = NEW.allow_operator_override
    reads: ReadsSetting = NEW.reads
    rules: Rules = msgspec.field(default_factory=Rules)
    tournament: TournamentSettings | None = None
    cohort_size: CohortSize | None = None
    tiers: Tiers | None = None


class BoardChanges(Struct, forbid_unknown_fields=True):
    """The mutable settings; the others are fixed when the board is created."""

    windows: Windows | UnsetType = UNSET
    keep_periods: KeepPeriods | UnsetType = UNSET
    allow_operator_override: bool | UnsetType = UNSET
    reads: ReadsSetting | UnsetType = UNSET
    rules: Rules | UnsetType = UNSET
    tiers: Tiers | UnsetType | None = UNSET


class Board(Struct, kw_only=True):
    """A board's settings, and how many users it ranks."""

    board: Id
    order: Order
    operator: Operator
    tie: Tie
    subscore_order: Order | UnsetType | None = UNSET
    windows: list[str]
    timezone: str
    keep_periods: int
    allow_operator_override: bool | UnsetType = UNSET
    reads: Reads | UnsetType = UNSET
    rules: (
        Annotated[
            Rules, Meta(description="Shown to write and admin keys only: a player's client does not learn the bounds")
        ]
        | UnsetType
    ) = UNSET
    users: Annotated[int, Meta(ge=0)]
    tournament: Tournament | UnsetType = UNSET
    cohort_size: CohortSize | UnsetType = UNSET
    tiers: Tiers | UnsetType = UNSET


class BoardList(Struct):
    boards: list[Id]


TYPES = (TierSetting, BoardSettings, BoardChanges, Board, BoardList)
