"""Look at each hop of the distributed pipeline with the engines' own clients."""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson
from confluent_kafka import OFFSET_END, Consumer, TopicPartition

from podium.store.cassandra import SLOTS, slot_of
from tests.distributed.stack import cassandra_cluster


def cassandra_row(board: str, user: str, keyspace: str = "podium") -> Any:
    cluster = cassandra_cluster(protocol_version=5)
    try:
        session = cluster.connect()
        return session.execute(
            f"SELECT total, version, log_partition, log_offset FROM {keyspace}.totals "
            "WHERE board=%s AND slot=%s AND user_id=%s",
            (board, slot_of(user), user),
        ).one()
    finally:
        cluster.shutdown()


def topic_records(
    topic: str, match: bytes, *, want: int = 1, timeout_s: float = 20.0, since_s: float = 600.0
) -> list[tuple[bytes, bytes]]:
    """Every record of `topic` appended in the last `since_s` seconds whose key or value
    contains `match`. Not from offset 0: the shared stack's topics grow with every run, and
    scanning all of them took longer than `timeout_s` (test_full_path failed so)."""
    consumer = Consumer(
        {"bootstrap.servers": "127.0.0.1:9092", "group.id": f"test-{uuid.uuid4().hex}", "enable.auto.commit": False}
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        since_ms = int((time.time() - since_s) * 1000)
        starts = consumer.offsets_for_times([TopicPartition(topic, p, since_ms) for p in partitions], timeout=10)
        # A partition with nothing that recent answers offset -1 (its end): `OFFSET_END` reads only newer records.
        consumer.assign([TopicPartition(topic, s.partition, s.offset if s.offset >= 0 else OFFSET_END) for s in starts])
        found: list[tuple[bytes, bytes]] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and len(found) < want:
            for msg in consumer.consume(1000, 0.5):
                if msg.error() is None and (match in (msg.key() or b"") or match in (msg.value() or b"")):
                    found.append((msg.key() or b"", msg.value() or b""))
        return found
    finally:
        consumer.close()


def change_totals(records: list[tuple[bytes, bytes]]) -> list[int]:
    return [orjson.loads(v)["after"]["total"]["value"] for _, v in records if v]


def ingest_end_offsets() -> dict[int, int]:
    """The ingest topic's end offset per partition: grows with every appended record."""
    from podium.plumbing import names

    consumer = Consumer({"bootstrap.servers": "127.0.0.1:9092", "group.id": f"test-{uuid.uuid4().hex}"})
    try:
        partitions = consumer.list_topics(names.INGEST_TOPIC, timeout=10).topics[names.INGEST_TOPIC].partitions
        return {
            p: consumer.get_watermark_offsets(TopicPartition(names.INGEST_TOPIC, p), timeout=10)[1] for p in partitions
        }
    finally:
        consumer.close()


def store_rows(boards: list[str], keyspace: str = "podium") -> list[Any]:
    """The boards' settings and totals rows in Cassandra."""
    cluster = cassandra_cluster(protocol_version=5)
    try:
        session = cluster.connect()
        rows: list[Any] = []
        for board in boards:
            rows += list(session.execute(f"SELECT * FROM {keyspace}.boards WHERE board=%s", (board,)))
            for slot in range(SLOTS):
                query = f"SELECT * FROM {keyspace}.totals WHERE board=%s AND slot=%s"
                rows += list(session.execute(query, (board, slot)))
        return rows
    finally:
        cluster.shutdown()
