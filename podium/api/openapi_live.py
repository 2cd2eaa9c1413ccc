"""The OpenAPI paths of the live endpoints (podium/api/live.py). OpenAPI 3 has no
WebSocket operation: the WebSocket is described on the SSE path, whose frames it shares."""

from __future__ import annotations

from typing import Any

from podium.api.contract.build import Contract
from podium.api.contract.fields import Id
from podium.api.contract.live import Seq
from podium.api.contract.operations import BOARD, ERRORS
from podium.api.contract.schema import query_parameters, schema

ID = schema(Id)
SEQ = schema(Seq)
# One event of the stream (the Open API 3.2 reading of an event-stream schema): its fields as
# parsed, `data` the frame's JSON. A first event carries only `retry`.
EVENT = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "The frame's seq"},
        "event": {"type": "string", "enum": ["snapshot", "delta"]},
        "retry": {"type": "integer", "description": "Reconnect after this many milliseconds"},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {
                "type": "object",
                "required": ["type", "board", "seq", "at_ms"],
                "properties": {
                    "type": {"type": "string", "enum": ["snapshot", "delta"]},
                    "board": ID,
                    "seq": SEQ,
                    "at_ms": {"type": "integer"},
                },
            },
        },
    },
}


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
                        "content": {"text/event-stream": {"schema": EVENT}},
                    },
                    **ERRORS,
                },
            },
        },
    }
