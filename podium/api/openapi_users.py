"""The OpenAPI paths and schemas of shadow-bans, privacy deletes and exports
(podium/api/users.py)."""

from __future__ import annotations

from typing import Any

from podium.api.contract.operations import BOARD, ERRORS, ID, USER, answer

SCHEMAS: dict[str, Any] = {
    "Hidden": {
        "type": "object",
        "required": ["board", "user_id", "hidden"],
        "properties": {"board": ID, "user_id": ID, "hidden": {"type": "boolean"}},
    },
    "Forgotten": {
        "type": "object",
        "required": ["user_id", "boards", "friends_removed"],
        "properties": {
            "user_id": ID,
            "boards": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Every board the user was removed from (internal period boards of a "
                "board's time windows hold '~' in their names).",
            },
            "friends_removed": {
                "type": "integer",
                "minimum": 0,
                "description": "Friend-list links dropped: the users on the user's own list, plus every "
                "user whose list named the user.",
            },
            "accepted": {"type": "boolean", "description": "Only with 202"},
            "visible": {"type": "boolean", "description": "Only with 202: false"},
        },
    },
    "Export": {
        "type": "object",
        "required": ["user_id", "entries", "friends", "followers"],
        "properties": {
            "user_id": ID,
            "entries": {
                "type": "array",
                "description": "The user's total on every board, as stored (removed ones too).",
                "items": {
                    "type": "object",
                    "required": [
                        "board",
                        "score",
                        "subscore",
                        "best_score",
                        "hidden",
                        "removed",
                        "display_name",
                        "metadata",
                        "updated_at_us",
                        "rank",
                    ],
                    "properties": {
                        "board": {"type": "string"},
                        "score": {"type": "integer"},
                        "subscore": {"type": "integer"},
                        "best_score": {"type": "integer", "description": "The best total the user had here"},
                        "hidden": {"type": "boolean", "description": "Shadow-banned on this board"},
                        "removed": {"type": "boolean", "description": "Removed: only the id and the ban remain"},
                        "display_name": {"type": ["string", "null"]},
                        "metadata": {"description": "The JSON the game stored with the score, or null"},
                        "updated_at_us": {"type": "integer", "description": "When the last change was submitted"},
                        "rank": {
                            "type": ["integer", "null"],
                            "minimum": 1,
                            "description": "The rank the user has there now, as it sees it (under the board's "
                            "tie policy; a hidden user's own view); null when not ranked",
                        },
                    },
                },
            },
            "friends": {"type": "array", "items": ID, "description": "The users on the user's friend list"},
            "followers": {"type": "array", "items": ID, "description": "The users whose lists name the user"},
        },
    },
}

NOT_VISIBLE = {"202": answer("Accepted and durable, not yet visible within the wait time-out", "Accepted")}

PATHS: dict[str, Any] = {
    "/v1/boards/{board}/users/{user_id}/hide": {
        "parameters": [BOARD, USER],
        "post": {
            "summary": "Shadow-ban the user on the board: others stop seeing it; its own view is unchanged",
            "operationId": "hideUser",
            "description": "Allowed before the user has a score: the ban waits for it. Kept across "
            "new scores and removals until lifted. Answers once the ban is visible.",
            "responses": {"200": answer("Hidden", "Hidden"), **NOT_VISIBLE, **ERRORS},
        },
        "delete": {
            "summary": "Lift the user's shadow-ban on the board",
            "operationId": "unhideUser",
            "responses": {"200": answer("Shown again", "Hidden"), **NOT_VISIBLE, **ERRORS},
        },
    },
    "/v1/users/{user_id}": {
        "parameters": [USER],
        "delete": {
            "summary": "Privacy delete: the user off every board and every friend list",
            "operationId": "deleteUser",
            "description": "Removes the user from every board it has a total on (its name and "
            "metadata are dropped from the store; the removal keeps the id, the version and any "
            "ban), deletes its friend list and takes it off every other user's list. Safe to repeat.",
            "responses": {
                "200": answer("Removed everywhere and visible", "Forgotten"),
                "202": answer("Removed durably, not yet visible within the wait time-out", "Forgotten"),
                **ERRORS,
            },
        },
    },
    "/v1/users/{user_id}/export": {
        "parameters": [USER],
        "get": {
            "summary": "Everything Podium holds about the user (empty lists for an unknown user)",
            "operationId": "exportUser",
            "responses": {"200": answer("The user's data", "Export"), **ERRORS},
        },
    },
}
