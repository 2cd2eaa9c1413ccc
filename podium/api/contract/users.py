"""Shadow-bans, privacy deletes and exports (api/users.py): their answers."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import UNSET, Meta, Struct, UnsetType

from podium.api.contract.fields import Id


class Hidden(Struct):
    board: Id
    user_id: Id
    hidden: bool


class Forgotten(Struct, kw_only=True):
    user_id: Id
    boards: Annotated[
        list[str],
        Meta(
            description="Every board the user was removed from (internal period boards of a board's time windows "
            "hold '~' in their names)."
        ),
    ]
    friends_removed: Annotated[
        int,
        Meta(
            ge=0,
            description="Friend-list links dropped: the users on the user's own list, plus every user whose list "
            "named the user.",
        ),
    ]
    accepted: Annotated[bool, Meta(description="Only with 202")] | UnsetType = UNSET
    visible: Annotated[bool, Meta(description="Only with 202: false")] | UnsetType = UNSET


class ExportEntry(Struct):
    board: str
    score: int
    subscore: int
    best_score: Annotated[int, Meta(description="The best total the user had here")]
    hidden: Annotated[bool, Meta(description="Shadow-banned on this board")]
    removed: Annotated[bool, Meta(description="Removed: only the id and the ban remain")]
    display_name: str | None
    metadata: Annotated[Any, Meta(description="The JSON the game stored with the score, or null")]
    updated_at_us: Annotated[int, Meta(description="When the last change was submitted")]
    region: Annotated[
        str | None,
        Meta(
            description="The region the user's events on this board enter through (its first event's; "
            "docs/global.md); null with one region"
        ),
    ]
    rank: Annotated[
        Annotated[int, Meta(ge=1)] | None,
        Meta(
            description="The rank the user has there now, as it sees it (under the board's tie policy; a hidden "
            "user's own view); null when not ranked"
        ),
    ]


class Export(Struct):
    user_id: Id
    entries: Annotated[
        list[ExportEntry], Meta(description="The user's total on every board, as stored (removed ones too).")
    ]
    friends: Annotated[list[Id], Meta(description="The users on the user's friend list")]
    followers: Annotated[list[Id], Meta(description="The users whose lists name the user")]


ANSWERS = (Hidden, Forgotten, Export)
