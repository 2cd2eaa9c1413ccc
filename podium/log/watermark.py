"""How far the store is complete: whether the db-worker has consumed (and so written to the
store: it commits a record's offset only after the store write is durable) every record
appended to the ingest log before an instant. A period's results are final once this holds
for the period's end plus a grace (podium/usecases/deliveries.py, docs/architecture.md).

The api accepts a submission by appending it to the log, so "accepted before the end" is
"appended before the end": the log's own time of each record (SQLite: `appended_at_us`;
Kafka: the record's timestamp, set by the producer in the api process when it sends).
The grace covers an api's stamp of the period (its clock when the request came in) and the
append taking a moment longer, and small clock differences between api processes."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from podium.errors import BackendUnavailable
from podium.plumbing.sqlite_thread import SqliteThread


class Watermark(Protocol):
    async def stored_through(self, until_us: int) -> bool:
        """Whether every record appended to the log before `until_us` is in the store."""
        ...

    async def close(self) -> None: ...


class SqliteWatermark:
    """The embedded log's table (log.db) and its db-worker's committed offset."""

    def __init__(self, path: Path, group: str) -> None:
        self._db = SqliteThread(path, name="watermark")
        self._group = group

    async def stored_through(self, until_us: int) -> bool:
        def read(conn: sqlite3.Connection) -> bool:
            row = conn.execute("SELECT next_seq FROM consumer_offsets WHERE group_name = ?", (self._group,)).fetchone()
            next_seq = row[0] if row else 1
            # Records are appended in seq order, each stamped when its group commit ran: the
            # first one not consumed tells whether anything before `until_us` is left.
            first_left = conn.execute(
                "SELECT appended_at_us FROM records WHERE seq >= ? ORDER BY seq LIMIT 1", (next_seq,)
            ).fetchone()
            return first_left is None or first_left[0] >= until_us

        return await self._db.run(read)

    async def close(self) -> None:
        await self._db.close()


class KafkaWatermark:
    """Each partition of the ingest topics: the first offset at or after `until_us`
    (offsets_for_times) against the db-worker group's committed offset."""

    def __init__(self, bootstrap: str, topics: Sequence[str], group: str, *, timeout_s: float = 10.0) -> None:
        self._config = {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False}
        self._topics = list(topics)
        self._timeout_s = timeout_s
        self._consumer: Any = None  # made on first use; never subscribes, so never joins the group
        self._lock = asyncio.Lock()  # a librdkafka consumer is used from one thread at a time

    async def stored_through(self, until_us: int) -> bool:
        async with self._lock:
            return await asyncio.to_thread(self._stored_through, until_us)

    def _stored_through(self, until_us: int) -> bool:
        import confluent_kafka

        try:
            if self._consumer is None:
                self._consumer = confluent_kafka.Consumer(self._config)
            consumer = self._consumer
            partitions = []
            for topic in self._topics:
                meta = consumer.list_topics(topic, timeout=self._timeout_s).topics[topic]
                partitions += [confluent_kafka.TopicPartition(topic, p, until_us // 1000) for p in meta.partitions]
            firsts = consumer.offsets_for_times(partitions, timeout=self._timeout_s)
            committed = consumer.committed([confluent_kafka.TopicPartition(t.topic, t.partition) for t in partitions])
        except confluent_kafka.KafkaException as exc:
            raise BackendUnavailable(f"kafka: {exc}") from exc
        done = {(c.topic, c.partition): c.offset for c in committed}
        for first in firsts:
            low, high = consumer.get_watermark_offsets(first, timeout=self._timeout_s)
            target = first.offset if first.offset >= 0 else high  # none at or after the instant: all before it
            # Committed is the next offset the group reads (none yet: negative). Records the
            # log no longer holds (retention) cannot be read by anyone: the group starts at `low`.
            consumed = max(done.get((first.topic, first.partition), -1), low)
            if consumed < target:
                return False
        return True

    async def close(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await asyncio.to_thread(consumer.close)
