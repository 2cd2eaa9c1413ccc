"""The social part of the HTTP contract: friend lists and friends boards."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from podium.api.context import contract_of, read_board, services, user_of
from podium.api.contract.decoding import decode
from podium.api.contract.friends import Friends as FriendsAnswer
from podium.api.contract.friends import FriendsBoard, FriendsBoardEntry
from podium.api.requests import check_id, fields, int_query, parse_json, read_body
from podium.api.responses import answer, stored_json
from podium.errors import InvalidInput
from podium.usecases.friends import Friends
from podium.usecases.period_boards import where


def friends_of(request: Request) -> Friends:
    return services(request).friends


def listed(user_id: str, friends: list[str]) -> Response:
    return answer(FriendsAnswer(user_id, friends))


async def put_friends(request: Request) -> Response:
    friends = friends_of(request)
    user_id = user_of(request)
    raw = await read_body(request, services(request).settings.max_body_bytes)
    declared = decode(contract_of(request).decode_friend_list, raw, lambda: friend_list(parse_json(raw)))
    checked = friend_list(msgspec.to_builtins(declared))  # ids ending in a newline: contract/fields.py
    return listed(user_id, await friends.replace(user_id, checked))


def friend_list(body: Any) -> list[str]:
    """The friends of a friend list as parsed JSON, checked field by field (their number and
    repeats: podium/friends.py)."""
    listed = fields(body, ("friends",))["friends"]
    if not isinstance(listed, list):
        raise InvalidInput("friends must be an array of user ids", code="invalid_friends")
    return [check_id(f, "friend_id") for f in listed]


async def get_friends(request: Request) -> Response:
    user_id = user_of(request)
    return listed(user_id, await friends_of(request).of(user_id))


async def add_friend(request: Request) -> Response:
    user_id = user_of(request)
    friend_id = check_id(request.path_params["friend_id"], "friend_id")
    return listed(user_id, await friends_of(request).add(user_id, friend_id))


async def remove_friend(request: Request) -> Response:
    user_id = user_of(request)
    friend_id = check_id(request.path_params["friend_id"], "friend_id")
    await friends_of(request).remove(user_id, friend_id)
    return Response(status_code=204)


async def friends_board(request: Request) -> Response:
    friends = friends_of(request)
    board = await read_board(request)
    user_id = user_of(request)
    limit = int_query(request.query_params, contract_of(request).friends_board_query, "limit")
    entries = await friends.board(board, user_id, limit)
    shown = [
        FriendsBoardEntry(
            rank=e.rank,
            user_id=e.user_id,
            score=e.score,
            global_rank=e.global_rank,
            display_name=e.display_name or None,
            metadata=stored_json(e.metadata),
        )
        for e in entries
    ]
    return answer(FriendsBoard(**where(board), user_id=user_id, entries=shown))
