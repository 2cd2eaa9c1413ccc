"""The OpenAPI document of the HTTP contract: the operations, written here, and the
components, generated from the contract's declared types (api/contract/) at the service's
limits."""

from __future__ import annotations

from typing import Any

from podium import __version__
from podium.api import (
    admin,
    openapi_friends,
    openapi_history,
    openapi_live,
    openapi_reads,
    openapi_tournaments,
    openapi_users,
    openapi_webhooks,
)
from podium.api.contract.build import Contract
from podium.api.contract.operations import BOARD, ERRORS, SETTING_REFUSED, USER, answer, body
from podium.api.contract.reads import AroundQuery, TopQuery, UserQuery
from podium.api.contract.schema import components, query_parameters
from podium.api.contract.scores import WaitQuery

WAIT = query_parameters(WaitQuery)
RULE_BROKEN = answer("A board's score rule was broken (error.rule names it); nothing was applied", "Error")
WRONG_REGION = answer(
    "wait=true: a user enters this board through another region (error.user_region): refused before anything "
    "was appended, or found refused at home when the wait ran out",
    "Error",
)
RATE_LIMITED = {
    **answer("Over a rate limit (per key or per client address)", "Error"),
    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}, "description": "Seconds to wait"}},
}
UNLIMITED_PATHS = ("/healthz", "/metrics")


def document(contract: Contract) -> dict[str, Any]:
    settings = contract.settings
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Podium",
            "version": __version__,
            "description": "A real-time leaderboard service for games: exact ranks, live.",
        },
        "paths": {
            "/v1/boards": {
                "get": {
                    "summary": "Every board's name, sorted (without a key: the public boards')",
                    "operationId": "listBoards",
                    "responses": {"200": answer("The boards", "BoardList")},
                },
            },
            "/v1/boards/{board}": {
                "parameters": [BOARD],
                "put": {
                    "summary": "Create a board",
                    "operationId": "createBoard",
                    "requestBody": body("BoardSettings", required=False),
                    "responses": {
                        "201": answer("Created", "Board"),
                        "200": answer("Exists already", "Board"),
                        "409": answer("Exists with other settings", "Error"),
                        **SETTING_REFUSED,
                        **ERRORS,
                    },
                },
                "get": {
                    "summary": "A board's settings and size",
                    "operationId": "getBoard",
                    "responses": {"200": answer("The board", "Board"), **ERRORS},
                },
            },
            "/v1/boards/{board}/scores": {
                "parameters": [BOARD],
                "post": {
                    "summary": "Submit a score",
                    "operationId": "submitScore",
                    "parameters": WAIT,
                    "requestBody": body("Submission"),
                    "responses": {
                        "202": answer("Accepted", "Accepted"),
                        "200": answer("Visible (wait=true)", "Result"),
                        "409": WRONG_REGION,
                        "422": RULE_BROKEN,
                        **ERRORS,
                    },
                },
            },
            "/v1/boards/{board}/scores/batch": {
                "parameters": [BOARD],
                "post": {
                    "summary": f"Submit up to {settings.max_batch:,} scores",
                    "operationId": "submitScores",
                    "parameters": WAIT,
                    "requestBody": body("SubmissionBatch"),
                    "responses": {
                        "202": answer("Accepted", "Accepted"),
                        "200": answer("Visible (wait=true)", "Results"),
                        "409": WRONG_REGION,
                        "422": RULE_BROKEN,
                        **ERRORS,
                    },
                },
            },
            "/v1/boards/{board}/top": {
                "parameters": [BOARD],
                "get": {
                    "summary": "A page of the board",
                    "operationId": "top",
                    "parameters": [p for p in query_parameters(TopQuery) if p["name"] != "cursor"],
                    "responses": {"200": answer("The page", "TopPage"), **ERRORS},
                },
            },
            "/v1/boards/{board}/users/{user_id}": {
                "parameters": [BOARD, USER],
                "get": {
                    "summary": "A user's rank and score",
                    "operationId": "getUser",
                    "parameters": query_parameters(UserQuery),
                    "responses": {"200": answer("The entry", "Entry"), **ERRORS},
                },
                "delete": {
                    "summary": "Remove a user from the board",
                    "operationId": "removeUser",
                    "responses": {"204": answer("Removed"), **ERRORS},
                },
            },
            "/v1/boards/{board}/users/{user_id}/around": {
                "parameters": [BOARD, USER],
                "get": {
                    "summary": "The users ranked around a user",
                    "operationId": "around",
                    "parameters": query_parameters(AroundQuery),
                    "responses": {"200": answer("The window", "Around"), **ERRORS},
                },
            },
            "/v1/admin/boards/{board}/buckets": {
                "parameters": [BOARD],
                "get": {
                    "summary": "The board's score buckets: range, shard, members, writes a second",
                    "operationId": "buckets",
                    "responses": {"200": answer("The buckets, best first", "Buckets"), **ERRORS},
                },
            },
            "/v1/admin/reconcile": {
                "post": {
                    "summary": "Compare the rank index with the store, repair what drifted, report it",
                    "operationId": "reconcile",
                    "requestBody": body("ReconcileRequest", required=False),
                    "responses": {"200": answer("The report", "ReconcileReport"), **ERRORS},
                },
            },
            "/healthz": {
                "get": {"summary": "Health", "operationId": "health", "responses": {"200": answer("Serving", "Health")}}
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "operationId": "openapi",
                    "responses": {"200": {"description": "OpenAPI 3.1 document"}},
                }
            },
            **admin.PATHS,
            **openapi_friends.paths(contract),
            **openapi_live.paths(contract),
            **openapi_users.PATHS,
            **openapi_tournaments.PATHS,
            **openapi_history.PATHS,
            **openapi_webhooks.PATHS,
        },
        # OpenAPI 3.1: what Podium POSTs to a webhook (api/contract/webhooks.py).
        "webhooks": openapi_webhooks.WEBHOOKS,
        "components": {
            "schemas": {
                **components(contract.types()),
            }
        },
    }
    doc["paths"] = openapi_reads.extend(doc["paths"])
    for path, item in doc["paths"].items():  # every request but a health check counts against a rate limit
        for method, operation in item.items():
            if path not in UNLIMITED_PATHS and method in ("get", "put", "post", "patch", "delete"):
                operation["responses"].setdefault("429", RATE_LIMITED)
    return doc
