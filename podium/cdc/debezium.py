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
