"""Bytes on the wire between stages: log records and change events, as JSON."""

from __future__ import annotations

from typing import Any

import orjson

from podium.domain.boards import Operator
from podium.domain.totals import Event, ScoreSubmitted, UserHidden, UserRemoved
from podium.errors import InvalidRecord


def encode_event(event: Event) -> bytes:
    if isinstance(event, ScoreSubmitted):
        body: dict[str, Any] = {
            "type": "score",
            "board": event.board,
            "user_id": event.user_id,
            "score": event.score,
            "at_us": event.submitted_at_us,
        }
        # Only what differs from the defaults: most records stay as short as before.
        if event.key is not None:
            body["key"] = event.key
        if event.subscore:
            body["subscore"] = event.subscore
        if event.operator is not None:
            body["operator"] = event.operator.value
        if event.display_name is not None:
            body["display_name"] = event.display_name
        if event.metadata is not None:
            body["metadata"] = event.metadata
        return orjson.dumps(body)
    if isinstance(event, UserHidden):
        return orjson.dumps(
            {
                "type": "hide",
                "board": event.board,
                "user_id": event.user_id,
                "hidden": event.hidden,
                "at_us": event.submitted_at_us,
            }
        )
    return orjson.dumps(
        {"type": "remove", "board": event.board, "user_id": event.user_id, "at_us": event.submitted_at_us}
    )


def decode_event(value: bytes) -> Event:
    try:
        body = orjson.loads(value)
        kind = body["type"]
        if kind == "score":
            operator = body.get("operator")
            name, metadata = body.get("display_name"), body.get("metadata")
            return ScoreSubmitted(
                str(body["board"]),
                str(body["user_id"]),
                int(body["score"]),
                body.get("key"),
                int(body["at_us"]),
                int(body.get("subscore", 0)),
                Operator(operator) if operator is not None else None,
                str(name) if name is not None else None,
                str(metadata) if metadata is not None else None,
            )
        if kind == "hide":
            return UserHidden(str(body["board"]), str(body["user_id"]), bool(body["hidden"]), int(body["at_us"]))
        if kind == "remove":
            return UserRemoved(str(body["board"]), str(body["user_id"]), int(body["at_us"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InvalidRecord(f"undecodable log record: {exc}") from exc
    raise InvalidRecord(f"unknown log record type {kind!r}")


def log_key(board: str, user_id: str) -> str:
    """The log key: all events of one (board, user) land on one partition."""
    return f"{board}:{user_id}"
