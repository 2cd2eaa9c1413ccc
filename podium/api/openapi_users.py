"""The OpenAPI paths of shadow-bans, privacy deletes and exports (podium/api/users.py); their
schemas are generated from the declared types (api/contract/users.py)."""

from __future__ import annotations

from typing import Any

from podium.api.contract.operations import BOARD, ERRORS, USER, answer

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
