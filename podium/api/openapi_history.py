"""The OpenAPI path of rank history (podium/api/history.py); its schemas are generated from
the declared types (api/contract/history.py)."""

from __future__ import annotations

from typing import Any

from podium.api.contract.history import HistoryQuery
from podium.api.contract.operations import BOARD, ERRORS, USER, WINDOW, answer
from podium.api.contract.schema import query_parameters

PATHS: dict[str, Any] = {
    "/v1/boards/{board}/users/{user_id}/history": {
        "parameters": [BOARD, USER],
        "get": {
            "summary": "The user's rank history: each change of its total with its rank right after, newest first",
            "operationId": "getUserHistory",
            "description": "On a windowed board (window=), the points of the current period and of the finished "
            "ones kept, each finished period with its final rank (final: true) at its end. Empty for a user "
            "without points (or with PODIUM_HISTORY_POINTS=0).",
            "parameters": [*query_parameters(HistoryQuery), WINDOW],
            "responses": {"200": answer("The points, newest first", "History"), **ERRORS},
        },
    },
}
