"""The OpenAPI paths of issue 7's board admin and queries (api/boards.py, api/reads.py), and
the window parameters every read takes; their schemas and query parameters are generated
from the declared types (api/contract/reads.py)."""

from __future__ import annotations

from typing import Any

from podium.api.contract.operations import BOARD, ERRORS, PERIOD, SETTING_REFUSED, WINDOW, answer, body
from podium.api.contract.reads import CountQuery, RangeQuery, ScoreForRankQuery, TopQuery
from podium.api.contract.schema import query_parameters

PATHS: dict[str, Any] = {
    "/v1/boards/{board}/range": {
        "parameters": [BOARD],
        "get": {
            "summary": "The users whose totals are within [min, max], best first",
            "operationId": "scoreRange",
            "parameters": [*query_parameters(RangeQuery), WINDOW, PERIOD],
            "responses": {"200": answer("The range", "Range"), **ERRORS},
        },
    },
    "/v1/boards/{board}/count": {
        "parameters": [BOARD],
        "get": {
            "summary": "How many users have totals within [min, max]",
            "operationId": "scoreCount",
            "parameters": [*query_parameters(CountQuery), WINDOW, PERIOD],
            "responses": {"200": answer("The count", "Count"), **ERRORS},
        },
    },
    "/v1/boards/{board}/score-for-rank": {
        "parameters": [BOARD],
        "get": {
            "summary": "The total that takes a rank now",
            "operationId": "scoreForRank",
            "parameters": [*query_parameters(ScoreForRankQuery), WINDOW, PERIOD],
            "responses": {"200": answer("The score", "ScoreForRank"), **ERRORS},
        },
    },
    "/v1/boards/{board}/users/lookup": {
        "parameters": [BOARD],
        "post": {
            "summary": "Up to 100 users' entries at once",
            "operationId": "lookupUsers",
            "parameters": [WINDOW, PERIOD],
            "requestBody": body("Lookup"),
            "responses": {"200": answer("Found and missing users", "LookupResult"), **ERRORS},
        },
    },
    "/v1/boards/{board}/periods": {
        "parameters": [BOARD],
        "get": {
            "summary": "A window's current period, the finished ones kept, and the next reset",
            "operationId": "periods",
            "parameters": [WINDOW],
            "responses": {"200": answer("The periods", "Periods"), **ERRORS},
        },
    },
}


def extend(paths: dict[str, Any]) -> dict[str, Any]:
    """Add board PATCH and DELETE, and the window (and cursor) parameters of the reads."""
    board = paths["/v1/boards/{board}"]
    board["patch"] = {
        "summary": "Change a board's mutable settings",
        "operationId": "updateBoard",
        "requestBody": body("BoardChanges"),
        "responses": {"200": answer("The board", "Board"), **SETTING_REFUSED, **ERRORS},
    }
    board["delete"] = {
        "summary": "Delete a board, its windows' periods, totals and ranks",
        "operationId": "deleteBoard",
        "responses": {"204": answer("Deleted"), **ERRORS},
    }
    for path in (
        "/v1/boards/{board}/top",
        "/v1/boards/{board}/users/{user_id}",
        "/v1/boards/{board}/users/{user_id}/around",
        "/v1/boards/{board}/users/{user_id}/friends",
    ):
        # New dicts: some paths are module constants, and each document must start from them as written.
        read = paths[path]["get"]
        paths[path] = {**paths[path], "get": {**read, "parameters": [*read.get("parameters", []), WINDOW, PERIOD]}}
    top = paths["/v1/boards/{board}/top"]["get"]["parameters"]
    top.extend(p for p in query_parameters(TopQuery) if p["name"] == "cursor")
    return {**paths, **PATHS}
