"""The OpenAPI paths and schemas of issue 7's board admin and queries (api/boards.py,
api/reads.py), and the window parameters every read takes."""

from __future__ import annotations

from typing import Any

from podium.api.contract.operations import BOARD, ERRORS, ID, PERIOD, SCORE, WINDOW, answer, body, ref

OPTIONAL_SCORE = {"type": "integer", "minimum": SCORE["minimum"], "maximum": SCORE["maximum"]}


def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


MIN = query("min", OPTIONAL_SCORE, "Lowest total included (default: none)")
MAX = query("max", OPTIONAL_SCORE, "Highest total included (default: none)")
CURSOR = query("cursor", {"type": "string", "maxLength": 400}, "From a page's next_cursor (not with offset)")

SCHEMAS: dict[str, Any] = {
    "Lookup": {
        "type": "object",
        "required": ["user_ids"],
        "additionalProperties": False,
        "properties": {
            "user_ids": {"type": "array", "items": ID, "minItems": 1, "maxItems": 100},
            "order": {"type": "string", "enum": ["board", "input"], "default": "board"},
        },
    },
    "LookupResult": {
        "type": "object",
        "required": ["entries", "missing"],
        "properties": {
            "board": ID,
            "entries": {"type": "array", "items": ref("Entry")},
            "missing": {"type": "array", "items": ID, "description": "Unranked, unknown or hidden users"},
        },
    },
    "Range": {
        "type": "object",
        "required": ["count", "entries"],
        "properties": {
            "board": ID,
            "min": {"type": ["integer", "null"]},
            "max": {"type": ["integer", "null"]},
            "count": {"type": "integer", "description": "Users in the range"},
            "entries": {"type": "array", "items": ref("Entry")},
        },
    },
    "Count": {
        "type": "object",
        "required": ["count"],
        "properties": {
            "board": ID,
            "min": {"type": ["integer", "null"]},
            "max": {"type": ["integer", "null"]},
            "count": {"type": "integer"},
        },
    },
    "ScoreForRank": {
        "type": "object",
        "required": ["rank", "score"],
        "properties": {
            "board": ID,
            "rank": {"type": "integer"},
            "users": {"type": "integer"},
            "score": {
                "type": ["integer", "null"],
                "description": (
                    "The total of the user the rank is measured against: the one in that place counting every "
                    "user once (unique, competition; where equals share a rank that skips this one, their total), "
                    "or the first holder of that rank (dense). Null: no one is there"
                ),
            },
            "beat": {
                "type": ["integer", "null"],
                "description": (
                    "One better than score: takes the rank or better whatever the tie policy and subscore. "
                    "Null when score is, or when no total is better (it is at the edge, 2^53 - 1)"
                ),
            },
            "needed": {
                "type": ["integer", "null"],
                "description": (
                    "The worst total that ranks a user submitting it now (with the subscore asked, default 0) at "
                    "this rank or better, under the board's tie policy and subscore: equal to score where equals "
                    "share the rank. The worst total of all when no one is there (any total takes it); null when "
                    "no total does"
                ),
            },
        },
    },
    "Periods": {
        "type": "object",
        "required": ["board", "window", "current", "kept"],
        "properties": {
            "board": ID,
            "window": {"type": "string"},
            "timezone": {"type": "string"},
            "current": {"type": "object"},
            "kept": {"type": "array", "items": {"type": "object"}},
            "next_reset_us": {"type": ["integer", "null"]},
        },
    },
}

PATHS: dict[str, Any] = {
    "/v1/boards/{board}/range": {
        "parameters": [BOARD],
        "get": {
            "summary": "The users whose totals are within [min, max], best first",
            "operationId": "scoreRange",
            "parameters": [
                MIN,
                MAX,
                query("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}, "Page size"),
                query("offset", {"type": "integer", "minimum": 0, "default": 0}, "Skip this many of the range"),
                WINDOW,
                PERIOD,
            ],
            "responses": {"200": answer("The range", "Range"), **ERRORS},
        },
    },
    "/v1/boards/{board}/count": {
        "parameters": [BOARD],
        "get": {
            "summary": "How many users have totals within [min, max]",
            "operationId": "scoreCount",
            "parameters": [MIN, MAX, WINDOW, PERIOD],
            "responses": {"200": answer("The count", "Count"), **ERRORS},
        },
    },
    "/v1/boards/{board}/score-for-rank": {
        "parameters": [BOARD],
        "get": {
            "summary": "The total that takes a rank now",
            "operationId": "scoreForRank",
            "parameters": [
                query("rank", {"type": "integer", "minimum": 1, "default": 1}, "The rank wanted"),
                query(
                    "subscore",
                    OPTIONAL_SCORE,
                    "The subscore the user would submit, which needed is for (default 0); only on a board with one",
                ),
                WINDOW,
                PERIOD,
            ],
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
        "responses": {"200": answer("The board", "Board"), **ERRORS},
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
    paths["/v1/boards/{board}/top"]["get"]["parameters"].append(CURSOR)
    return {**paths, **PATHS}
