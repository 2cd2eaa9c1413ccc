"""Rank history (api/history.py): its query and its answer."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from podium.api.contract.fields import Id

MAX_HISTORY_LIMIT = 1000
MAX_AT_US = 2**62  # far beyond any instant a board takes (domain/windows.py stops at 9999)

AtUs = Annotated[int, Meta(ge=0, le=MAX_AT_US)]


class HistoryQuery(Struct):
    from_us: (
        Annotated[AtUs, Meta(description="Only points at or after this instant (UTC microseconds; default: none)")]
        | UnsetType
    ) = msgspec.field(default=UNSET, name="from")
    to_us: (
        Annotated[AtUs, Meta(description="Only points at or before this instant (UTC microseconds; default: none)")]
        | UnsetType
    ) = msgspec.field(default=UNSET, name="to")
    limit: Annotated[
        int,
        Meta(
            ge=1,
            le=MAX_HISTORY_LIMIT,
            description="At most this many points, newest first (never more than PODIUM_HISTORY_POINTS)",
        ),
    ] = 100


class HistoryPoint(Struct, kw_only=True):
    at: Annotated[str, Meta(description="When the change was submitted (a period's end for a final rank), RFC 3339")]
    at_us: Annotated[int, Meta(description="The same instant in UTC microseconds")]
    score: Annotated[int, Meta(description="The user's total right after")]
    rank: Annotated[int, Meta(ge=1, description="The user's rank right after (its own view if hidden)")]
    period: Annotated[str, Meta(description="The window's period of the point (windowed reads only)")] | UnsetType = (
        UNSET
    )
    final: (
        Annotated[bool, Meta(description="true: the finished period's final rank, at its end (windowed reads only)")]
        | UnsetType
    ) = UNSET


class History(Struct, kw_only=True):
    board: Id
    user_id: Id
    window: str
    points: Annotated[list[HistoryPoint], Meta(description="Newest first")]


TYPES = (History,)
