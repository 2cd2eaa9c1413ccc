"""The OpenAPI paths of the live endpoints (podium/api/live.py). OpenAPI 3 has no
WebSocket operation: the WebSocket is described on the SSE path, whose frames it shares.
The frames and the SSE event are declared types (api/contract/live.py)."""

from __future__ import annotations

from typing import Any

from podium.api.contract.build import Contract
from podium.api.contract.operations import BOARD, ERRORS, ref
from podium.api.contract.schema import query_parameters


def paths(contract: Contract) -> dict[str, Any]:
    return {
        "/v1/boards/{board}/events": {
            "parameters": [BOARD],
            "get": {
                "summary": "Live updates of the board as Server-Sent Events (and, with the same query "
                "and frames, the WebSocket /v1/boards/{board}/live, resuming with `resume_from`)",
                "description": "A `snapshot` event (top N, the user's entry, their friends board), then "
                "`delta` events whose changes carry consecutive sequence numbers; each event's id is its "
                "`seq`. At most PODIUM_LIVE_MAX_FPS events a second. See the README, 'Live updates'.",
                "operationId": "boardEvents",
                "parameters": [
                    *query_parameters(contract.events_query),
                    {
                        "name": "Last-Event-ID",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "pattern": "^[0-9]*$"},
                        "description": "A seq to resume after, as EventSource sends it (empty: none).",
                    },
                ],
                "responses": {
                    "200": {
                        "description": "An endless text/event-stream",
                        "content": {"text/event-stream": {"schema": ref("ServerSentEvent")}},
                    },
                    **ERRORS,
                },
            },
        },
    }
