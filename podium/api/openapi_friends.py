"""The OpenAPI paths of the friends endpoints (podium/api/friends.py); their schemas are
generated from the declared types (api/contract/friends.py)."""

from __future__ import annotations

from typing import Any

from podium.api.contract.build import Contract
from podium.api.contract.operations import BOARD, ERRORS, USER, answer, body, path_param
from podium.api.contract.schema import query_parameters

FRIEND = path_param("friend_id")
CONFLICT = {"409": answer("The friend list is full", "Error")}


def paths(contract: Contract) -> dict[str, Any]:
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
                "parameters": query_parameters(contract.friends_board_query),
                "responses": {"200": answer("The best entries, in rank order", "FriendsBoard"), **ERRORS},
            },
        },
    }
