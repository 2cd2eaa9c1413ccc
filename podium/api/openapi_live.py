"""The OpenAPI paths of the live endpoints (podium/api/live.py). OpenAPI 3 has no
WebSocket operation: the WebSocket is described on the SSE path, whose frames it shares."""

from __future__ import annotations

from typing import Any

from podium.api.contract.operations import BOARD, ERRORS, ID, query_int
from podium.settings import Settings

SEQ = {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
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


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def paths(settings: Settings) -> dict[str, Any]:
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
                    _query(
                        "user_id",
                        {**ID, "pattern": "^[A-Za-z0-9_.:-]{0,128}$", "minLength": 0},
                        "The subscriber: adds its entry, friends board and events (empty: none).",
                    ),
                    query_int("top", 1, settings.live_max_top, 10),
                    _query("last_event_id", SEQ, "Resume after this seq (as the Last-Event-ID header does)."),
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
