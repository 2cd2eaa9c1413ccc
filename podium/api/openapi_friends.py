"""The OpenAPI paths and schemas of the friends endpoints (podium/api/friends.py)."""

from __future__ import annotations

from typing import Any

from podium.api.contract.operations import BOARD, ERRORS, ID, USER, answer, body, path_param, query_int
from podium.settings import Settings


def schemas(settings: Settings) -> dict[str, Any]:
    return {
        "FriendList": {
            "type": "object",
            "required": ["friends"],
            "additionalProperties": False,
            "properties": {
                "friends": {
                    "type": "array",
                    "items": ID,
                    "uniqueItems": True,
                    "maxItems": settings.max_friends,
                    "description": "The users this user follows (directed); never the user themselves.",
                }
            },
        },
        "Friends": {
            "type": "object",
            "required": ["user_id", "friends"],
            "properties": {"user_id": ID, "friends": {"type": "array", "items": ID}},
        },
        "FriendsBoard": {
            "type": "object",
            "required": ["board", "user_id", "entries"],
            "properties": {
                "board": ID,
                "user_id": ID,
                "entries": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["rank", "user_id", "score", "global_rank"],
                        "properties": {
                            "rank": {
                                "type": "integer",
                                "minimum": 1,
                                "description": "Among the user and their friends, under the board's tie policy",
                            },
                            "user_id": ID,
                            "score": {"type": "integer"},
                            "global_rank": {
                                "type": ["integer", "null"],
                                "minimum": 1,
                                "description": "On the whole board, as GET .../users/{user_id} answers it",
                            },
                        },
                    },
                },
            },
        },
    }


FRIEND = path_param("friend_id")
CONFLICT = {"409": answer("The friend list is full", "Error")}


def paths(settings: Settings) -> dict[str, Any]:
    return {
        "/v1/users/{user_id}/friends": {
            "parameters": [USER],
            "put": {
                "summary": "Set the user's friend list",
                "operationId": "putFriends",
                "requestBody": body("FriendList"),
                "responses": {"200": answer("The list as stored", "Friends"), **ERRORS},
            },
            "get": {
                "summary": "The user's friend list",
                "operationId": "getFriends",
                "responses": {"200": answer("The list", "Friends"), **ERRORS},
            },
        },
        "/v1/users/{user_id}/friends/{friend_id}": {
            "parameters": [USER, FRIEND],
            "post": {
                "summary": "Add one friend (no change if listed already)",
                "operationId": "addFriend",
                "responses": {"200": answer("The list as stored", "Friends"), **ERRORS, **CONFLICT},
            },
            "delete": {
                "summary": "Remove one friend (no change if not listed)",
                "operationId": "removeFriend",
                "responses": {"204": answer("Removed"), **ERRORS},
            },
        },
        "/v1/boards/{board}/users/{user_id}/friends": {
            "parameters": [BOARD, USER],
            "get": {
                "summary": "The user's friends board: the user and their friends, ranked among them",
                "operationId": "friendsBoard",
                "parameters": [query_int("limit", 1, settings.max_friends + 1, 100)],
                "responses": {"200": answer("The best entries, in rank order", "FriendsBoard"), **ERRORS},
            },
        },
    }
