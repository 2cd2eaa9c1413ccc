"""Rank queries (api/reads.py): their queries, the lookup's body, and their answers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from podium.api.contract.fields import Id, Score
from podium.api.cursors import MAX_CURSOR_CHARS
from podium.domain.boards import MAX_SCORE, MIN_SCORE

MAX_TOP_LIMIT = 1000
MAX_OFFSET = 10_000_000_000
MAX_RADIUS = 100
MAX_LOOKUP = 100

LookupOrder = Literal["board", "input"]  # the board's order, or the order the ids were given in
PageSize = Annotated[int, Meta(ge=1, le=MAX_TOP_LIMIT, description="Page size")]
Bound = Annotated[int, Meta(ge=MIN_SCORE, le=MAX_SCORE)]


# Queries: each field a query parameter (absent: its default); the handlers read the integer
# ones by the bounds declared here (api/requests.int_query), so the document and the checks agree.


Cohort = Annotated[
    str,
    Meta(
        pattern="^(me|[1-9][0-9]{0,8})$",
        description="On a board with cohort_size: rank within one cohort, me (the cohort of user_id, or of the "
        "path's user) or its number",
    ),
]


class TopQuery(Struct):
    limit: PageSize = 10
    offset: Annotated[int, Meta(ge=0, le=MAX_OFFSET)] = 0
    cursor: (
        Annotated[str, Meta(max_length=MAX_CURSOR_CHARS, description="From a page's next_cursor (not with offset)")]
        | UnsetType
    ) = UNSET
    cohort: Cohort | UnsetType = UNSET
    user_id: Annotated[Id, Meta(description="Whose cohort cohort=me reads")] | UnsetType = UNSET


class AroundQuery(Struct):
    radius: Annotated[int, Meta(ge=0, le=MAX_RADIUS)] = 5
    cohort: Cohort | UnsetType = UNSET


class UserQuery(Struct):
    cohort: Cohort | UnsetType = UNSET


class RangeQuery(Struct):
    min: Annotated[Bound, Meta(description="Lowest total included (default: none)")] | UnsetType = UNSET
    max: Annotated[Bound, Meta(description="Highest total included (default: none)")] | UnsetType = UNSET
    limit: PageSize = 100
    offset: Annotated[int, Meta(ge=0, le=MAX_OFFSET, description="Skip this many of the range")] = 0


class CountQuery(Struct):
    min: Annotated[Bound, Meta(description="Lowest total included (default: none)")] | UnsetType = UNSET
    max: Annotated[Bound, Meta(description="Highest total included (default: none)")] | UnsetType = UNSET


class ScoreForRankQuery(Struct):
    rank: Annotated[int, Meta(ge=1, le=MAX_OFFSET, description="The rank wanted")] = 1
    subscore: (
        Annotated[
            Bound,
            Meta(
                description="The subscore the user would submit, which needed is for (default 0); "
                "only on a board with one"
            ),
        ]
        | UnsetType
    ) = UNSET


class Lookup(Struct, forbid_unknown_fields=True):
    user_ids: Annotated[list[Id], Meta(min_length=1, max_length=MAX_LOOKUP)]
    order: LookupOrder = "board"


# Answers.


class Entry(Struct, kw_only=True):
    rank: Annotated[int, Meta(ge=1, description="Under the board's tie policy")]
    user_id: Id
    score: Score
    subscore: Score | UnsetType = UNSET
    display_name: str | UnsetType | None = UNSET
    metadata: dict[str, Any] | UnsetType | None = UNSET
    users: Annotated[int, Meta(description="A single user's entry: how many are ranked")] | UnsetType = UNSET
    percentile: (
        Annotated[float, Meta(description="A single user's entry: % of ranked users whose total is not better")]
        | UnsetType
    ) = UNSET
    tier: (
        Annotated[str | None, Meta(description="On a board with tiers: the first tier the entry reaches (null: none)")]
        | UnsetType
    ) = UNSET
    cohort: (
        Annotated[int, Meta(ge=1, description="A single user's entry on a board with cohorts: the user's cohort")]
        | UnsetType
    ) = UNSET


CohortNumber = Annotated[int, Meta(ge=1, description="Read with cohort=: the cohort ranked")]


class TopPage(Struct, kw_only=True):
    board: Id
    window: str | UnsetType = UNSET
    period: str | UnsetType = UNSET
    users: int
    entries: list[Entry]
    cohort: CohortNumber | UnsetType = UNSET
    next_cursor: Annotated[str, Meta(description="Pass as cursor= for the next page")] | UnsetType | None = UNSET


class Around(Struct, kw_only=True):
    board: Id | UnsetType = UNSET
    window: Annotated[str, Meta(description="A window's period board: the window")] | UnsetType = UNSET
    period: Annotated[str, Meta(description="A window's period board: the period")] | UnsetType = UNSET
    user_id: Id | UnsetType = UNSET
    entries: list[Entry]
    cohort: CohortNumber | UnsetType = UNSET


class LookupResult(Struct, kw_only=True):
    board: Id | UnsetType = UNSET
    window: Annotated[str, Meta(description="A window's period board: the window")] | UnsetType = UNSET
    period: Annotated[str, Meta(description="A window's period board: the period")] | UnsetType = UNSET
    entries: list[Entry]
    missing: Annotated[list[Id], Meta(description="Unranked, unknown or hidden users")]


class Range(Struct, kw_only=True):
    board: Id | UnsetType = UNSET
    window: Annotated[str, Meta(description="A window's period board: the window")] | UnsetType = UNSET
    period: Annotated[str, Meta(description="A window's period board: the period")] | UnsetType = UNSET
    min: int | UnsetType | None = UNSET
    max: int | UnsetType | None = UNSET
    count: Annotated[int, Meta(description="Users in the range")]
    entries: list[Entry]


class Count(Struct, kw_only=True):
    board: Id | UnsetType = UNSET
    window: Annotated[str, Meta(description="A window's period board: the window")] | UnsetType = UNSET
    period: Annotated[str, Meta(description="A window's period board: the period")] | UnsetType = UNSET
    min: int | UnsetType | None = UNSET
    max: int | UnsetType | None = UNSET
    count: int


class ScoreForRank(Struct, kw_only=True):
    board: Id | UnsetType = UNSET
    window: Annotated[str, Meta(description="A window's period board: the window")] | UnsetType = UNSET
    period: Annotated[str, Meta(description="A window's period board: the period")] | UnsetType = UNSET
    rank: int
    users: int | UnsetType = UNSET
    score: Annotated[
        int | None,
        Meta(
            description="The total of the user the rank is measured against: the one in that place counting every "
            "user once (unique, competition; where equals share a rank that skips this one, their total), "
            "or the first holder of that rank (dense). Null: no one is there"
        ),
    ]
    beat: (
        Annotated[
            int | None,
            Meta(
                description="One better than score: takes the rank or better whatever the tie policy and subscore. "
                "Null when score is, or when no total is better (it is at the edge, 2^53 - 1)"
            ),
        ]
        | UnsetType
    ) = UNSET
    needed: (
        Annotated[
            int | None,
            Meta(
                description="The worst total that ranks a user submitting it now (with the subscore asked, default 0) "
                "at this rank or better, under the board's tie policy and subscore: equal to score where equals "
                "share the rank. The worst total of all when no one is there (any total takes it); null when "
                "no total does"
            ),
        ]
        | UnsetType
    ) = UNSET


class Period(Struct):
    period: Annotated[str, Meta(description="The period's id, as period= takes it")]
    start_us: Annotated[int | None, Meta(description="Null: the all-time window, which has no start")]
    end_us: int | None


class Periods(Struct, kw_only=True):
    board: Id
    window: str
    timezone: str | UnsetType = UNSET
    current: Period
    kept: Annotated[list[Period], Meta(description="The finished periods kept, newest first")]
    next_reset_us: int | UnsetType | None = UNSET


TYPES = (Lookup, Entry, TopPage, Around, LookupResult, Range, Count, ScoreForRank, Period, Periods)
