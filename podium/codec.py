"""Bytes on the wire between stages: log records and change events, as JSON."""

from __future__ import annotations

from typing import Any

import orjson

from podium.domain.totals import Event, ScoreSubmitted, UserRemoved
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
        if event.key is not None:
            body["key"] = event.key
        return orjson.dumps(body)
    return orjson.dumps(
        {"type": "remove", "board": event.board, "user_id": event.user_id, "at_us": event.submitted_at_us}
    )


def decode_event(value: bytes) -> Event:
    try:
        body = orjson.loads(value)
        kind = body["type"]
        if kind == "score":
            return ScoreSubmitted(
                str(body["board"]), str(body["user_id"]), int(body["score"]), body.get("key"), int(body["at_us"])
            )
        if kind == "remove":
            return UserRemoved(str(body["board"]), str(body["user_id"]), int(body["at_us"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InvalidRecord(f"undecodable log record: {exc}") from exc
    raise InvalidRecord(f"unknown log record type {kind!r}")


def log_key(board: str, user_id: str) -> str:
    """The log key: all events of one (board, user) land on one partition."""
    return f"{board}:{user_id}"
