"""The distributed change feed: Debezium's Cassandra connector reads the totals
table's commit log (CDC) and writes one JSON event per mutation to Kafka.

The envelope (JsonConverter, schemas off) looks like
  {"op": "i"|"u"|"d", "source": {...}, "after": {"board": {"value": "b", ...}, ...}}
Delivery is at least once and only per-row ordered, which is all the rank index
needs: it applies a total only if its version is newer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson

from podium.cdc.base import Change
from podium.domain.totals import LogPosition, Total
from podium.errors import InvalidRecord
from podium.log.kafka import KafkaLogConsumer
from podium.store.rows import COLUMNS, total_from_row

log = logging.getLogger("podium.cdc.debezium")


TYPES: dict[str, type] = {"board": str, "user_id": str, "removed": bool}  # the others are integers


def parse_envelope(value: bytes) -> Total | None:
    """The total a Debezium change event carries; None for an event that carries none."""
    try:
        event = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise InvalidRecord(f"change event is not JSON: {exc}") from exc
    if not isinstance(event, dict):
        raise InvalidRecord("change event is not an object")
    if event.get("op") not in ("i", "u"):
        return None  # we never delete rows (removals are tombstone rows) nor write ranges
    after = event.get("after")
    if not isinstance(after, dict):
        raise InvalidRecord("change event has no 'after'")
    cells: dict[str, Any] = {}
    for column in COLUMNS:
        cell = after.get(column)
        cell_value = cell.get("value") if isinstance(cell, dict) else cell
        if cell_value is None:
            raise InvalidRecord(f"change event misses column {column!r} (a partial row)")
        cells[column] = cell_value
    try:
        return total_from_row([TYPES.get(c, int)(cells[c]) for c in COLUMNS])
    except (TypeError, ValueError) as exc:
        raise InvalidRecord(f"change event has a bad value: {exc}") from exc


class DebeziumChangeFeed:
    def __init__(self, bootstrap: str, topic: str, group: str) -> None:
        self._consumer = KafkaLogConsumer(bootstrap, [topic], group)
        self._skipped: list[LogPosition] = []  # events with no total: committed with the next batch

    async def poll(self, max_changes: int, timeout_s: float) -> list[Change]:
        changes = []
        for record in await self._consumer.poll(max_changes, timeout_s):
            try:
                total = parse_envelope(record.value)
            except InvalidRecord as exc:
                log.error("skipping invalid change event", extra={"position": str(record.position), "error": str(exc)})
                total = None
            if total is None:
                self._skipped.append(record.position)
            else:
                changes.append(Change(record.position, total))
        return changes

    async def commit(self, changes: Sequence[Change]) -> None:
        skipped, self._skipped = self._skipped, []
        await self._consumer.commit_positions([c.cursor for c in changes] + skipped)

    async def rewind(self) -> None:
        self._skipped = []
        await self._consumer.rewind()

    async def close(self) -> None:
        await self._consumer.close()
