"""The distributed change feed: Debezium's Cassandra connector reads the totals
table's commit log (CDC) and writes one JSON event per mutation to Kafka.

The envelope (JsonConverter, schemas off) looks like
  {"op": "i"|"u"|"d", "source": {...}, "after": {"board": {"value": "b", ...}, ...}}
Delivery is at least once and only per-row ordered, which is all the rank index
needs: it applies a total only if its version is newer.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
import orjson

from podium.cdc.base import Change, ReplayStart
from podium.domain.totals import LogPosition, Total
from podium.errors import BackendUnavailable, InvalidRecord
from podium.log.kafka import KafkaLogConsumer
from podium.store.rows import COLUMNS, OPTIONAL, total_from_row

if TYPE_CHECKING:
    import confluent_kafka

log = logging.getLogger("podium.cdc.debezium")
T = TypeVar("T")


TYPES: dict[str, type] = {
    "board": str,
    "user_id": str,
    "removed": bool,
    "hidden": bool,
    "display_name": str,
    "metadata": str,
    "region": str,
    "steps": str,
}  # the others are integers
# OPTIONAL: columns a row may lack (written before they existed, or a first total's
# defaults left out, podium/store/rows.first_row_from_total).


class _Text(msgspec.Struct):
    value: str | None = None


class _Number(msgspec.Struct):
    value: int | None = None


class _Flag(msgspec.Struct):
    value: bool | None = None


class _After(msgspec.Struct):
    """The row's cells as Debezium writes them (`{"value": v, "deletion_ts": …, "set": …}`),
    each typed as its column (TYPES): decoded straight to what the total holds."""

    board: _Text | None = None
    user_id: _Text | None = None
    total: _Number | None = None
    version: _Number | None = None
    reached_at_us: _Number | None = None
    log_partition: _Number | None = None
    log_offset: _Number | None = None
    removed: _Flag | None = None
    updated_at_us: _Number | None = None
    subscore: _Number | None = None
    best_total: _Number | None = None
    hidden: _Flag | None = None
    display_name: _Text | None = None
    metadata: _Text | None = None
    region: _Text | None = None
    steps: _Text | None = None


class _Envelope(msgspec.Struct):
    op: str | None = None
    after: _After | None = None


# The rank-worker decodes every change: orjson's whole-event dict (the `source` block, every
# cell's own dict) then a lookup and a conversion per column were 16-18 µs an event; msgspec
# decodes the typed form, skipping what it does not name, and the whole is 9-11 µs (2.4 of
# it the decoding, 3.8 the Total; docs/benchmarks.md). An event the
# typed form refuses (a cell not a dict, a value of another JSON type) goes the general way,
# `_parse_general`, which keeps every answer as it was.
_DECODER = msgspec.json.Decoder(_Envelope)
assert tuple(_After.__struct_fields__) == COLUMNS, "the typed row's cells in the columns' order"
_REQUIRED = len(COLUMNS) - len(OPTIONAL)  # the columns before the optional ones, every row has
assert COLUMNS[_REQUIRED:] == OPTIONAL


def parse_envelope(value: bytes) -> Total | None:
    """The total a Debezium change event carries; None for an event that carries none."""
    try:
        event = _DECODER.decode(value)
    except msgspec.DecodeError:  # not JSON, or not of the typed form: the general way decides
        return _parse_general(value)
    if event.op not in ("i", "u"):
        return None  # we never delete rows (removals are tombstone rows) nor write ranges
    a = event.after
    if a is None:
        return _parse_general(value)  # "after" absent or null: the general way names the fault
    row = [None if cell is None else cell.value for cell in msgspec.structs.astuple(a)]
    if None in row[:_REQUIRED]:
        return _parse_general(value)  # a partial row: refused there, with the column named
    return total_from_row(row)


def _parse_general(value: bytes) -> Total | None:
    """`parse_envelope` for any event: the JSON as a dict, each cell converted to its type."""
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
        if cell_value is None and column not in OPTIONAL:
            raise InvalidRecord(f"change event misses column {column!r} (a partial row)")
        cells[column] = cell_value
    try:
        return total_from_row([None if cells[c] is None else TYPES.get(c, int)(cells[c]) for c in COLUMNS])
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


class DebeziumHistory:
    """The change topic read again by a consumer of its own: partitions assigned by hand
    (no group to join, no rebalance of the rank-workers), nothing committed."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._topic = topic
        self._config = {
            "bootstrap.servers": bootstrap,
            "group.id": f"podium-replay-{uuid.uuid4().hex[:8]}",  # never joined: assign() only
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "client.id": "podium-replay",
        }
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kafka-replay")

    async def _run(self, job: Callable[[], T]) -> T:
        from confluent_kafka import KafkaException

        def call() -> T:
            try:
                return job()
            except KafkaException as exc:
                raise BackendUnavailable(f"kafka: {exc}") from exc

        return await asyncio.get_running_loop().run_in_executor(self._thread, call)

    def _ranges(self, consumer: confluent_kafka.Consumer, start: ReplayStart) -> list[tuple[int, int, int]]:
        """Per partition: the first offset to read and the end (exclusive) as of now."""
        from confluent_kafka import TopicPartition

        topic = consumer.list_topics(self._topic, timeout=10).topics[self._topic]
        ranges = []
        for partition in sorted(topic.partitions):
            low, high = consumer.get_watermark_offsets(TopicPartition(self._topic, partition), timeout=10)
            if start.at_us is not None:
                wanted = TopicPartition(self._topic, partition, start.at_us // 1000)
                found = consumer.offsets_for_times([wanted], timeout=10)[0].offset
                first = found if found >= 0 else high  # -1: nothing that late
            else:
                first = start.offset or 0
            ranges.append((partition, max(first, low), high))
        return ranges

    async def count(self, start: ReplayStart) -> int:
        from confluent_kafka import Consumer

        def count() -> int:
            consumer = Consumer(self._config)
            try:
                return sum(max(0, high - first) for _, first, high in self._ranges(consumer, start))
            finally:
                consumer.close()

        return await self._run(count)

    async def read(self, start: ReplayStart, chunk_size: int) -> AsyncIterator[list[Change]]:
        from confluent_kafka import Consumer, KafkaError, TopicPartition

        consumer = await self._run(lambda: Consumer(self._config))
        try:
            ranges = await self._run(lambda: self._ranges(consumer, start))
            ends = {p: high for p, first, high in ranges if first < high}
            assigned = [TopicPartition(self._topic, p, first) for p, first, high in ranges if first < high]
            await self._run(lambda: consumer.assign(assigned))
            while ends:
                messages = await self._run(lambda: consumer.consume(num_messages=chunk_size, timeout=1.0))
                changes = []
                for msg in messages:
                    partition, offset = msg.partition() or 0, msg.offset() or 0
                    error = msg.error()
                    if error is not None and error.code() != KafkaError._PARTITION_EOF:
                        raise BackendUnavailable(f"kafka: {error}")
                    if partition not in ends:
                        continue
                    if error is not None or offset >= ends[partition] - 1:
                        del ends[partition]  # read up to where it ended when the replay began
                    if error is not None or offset >= ends.get(partition, offset + 1):
                        continue
                    try:
                        total = parse_envelope(msg.value() or b"")
                    except InvalidRecord as exc:
                        log.error("skipping invalid change event", extra={"offset": offset, "error": str(exc)})
                        continue
                    if total is not None:
                        changes.append(Change(LogPosition(partition, offset), total))
                if changes:
                    yield changes
        finally:
            await self._run(consumer.close)

    async def close(self) -> None:
        self._thread.shutdown(wait=True)
