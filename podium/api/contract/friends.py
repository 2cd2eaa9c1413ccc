"""Friend lists and friends boards (api/friends.py)."""

from __future__ import annotations

from typing import Annotated, Any, cast

from msgspec import UNSET, Meta, Struct, UnsetType, defstruct

from podium.api.contract.fields import Id
from podium.settings import Settings

DEFAULT_BOARD_LIMIT = 100


class FriendList(Struct, forbid_unknown_fields=True):
    # Its length and repeats are documented here but checked by podium/friends.py, the one
    # place a list is replaced or added to, whose codes the contract promises.
    friends: list[Id]  # sized by `sized`


class Friends(Struct):
    user_id: Id
    friends: list[Id]


class FriendsBoardEntry(Struct, kw_only=True):
    rank: Annotated[int, Meta(ge=1, description="Among the user and their friends, under the board's tie policy")]
    user_id: Id
    score: int
    global_rank: Annotated[
        Annotated[int, Meta(ge=1)] | None, Meta(description="On the whole board, as GET .../users/{user_id} answers it")
    ]
    display_name: str | UnsetType | None = UNSET
    metadata: dict[str, Any] | UnsetType | None = UNSET


class FriendsBoard(Struct, kw_only=True):
    board: Id
    window: Annotated[str, Meta(description="A window's period board: the window")] | UnsetType = UNSET
    period: Annotated[str, Meta(description="A window's period board: the period")] | UnsetType = UNSET
    user_id: Id
    entries: list[FriendsBoardEntry]


class FriendsBoardQuery(Struct):
    limit: int = DEFAULT_BOARD_LIMIT  # sized by `sized`: the user and every friend fit in the largest page


def sized(settings: Settings) -> tuple[type[FriendList], type[FriendsBoardQuery]]:
    """The friend list and the friends board's query with the service's limits."""
    most = settings.max_friends
    listed = Meta(
        extra_json_schema={"uniqueItems": True, "maxItems": most},
        description="The users this user follows (directed); never the user themselves.",
    )
    friend_list = defstruct(
        "FriendList", [("friends", Annotated[list[Id], listed])], bases=(FriendList,), forbid_unknown_fields=True
    )
    limit = Annotated[int, Meta(ge=1, le=most + 1)]
    query = defstruct(
        "FriendsBoardQuery", [("limit", limit, min(DEFAULT_BOARD_LIMIT, most + 1))], bases=(FriendsBoardQuery,)
    )
    return cast(type[FriendList], friend_list), cast(type[FriendsBoardQuery], query)


ANSWERS = (Friends, FriendsBoard)
