"""Keeping the bench apart from others on a shared distributed stack.

The bench appends hundreds of thousands of records. On the stack's own ingest topic they
would wait, after the bench, for the next db-worker that anyone starts; and bench workers
in the stack's consumer groups would take partitions from anyone else's workers. So each
bench stage uses a Kafka topic and consumer groups of its own, made for it and deleted
after it: the same code, the same partitions and settings, other names. The rank-worker
still reads the one change topic Debezium writes (it cannot be renamed), from where it
ends when the stage starts. Boards are the bench's own too, and deleted after.

Processes started for a stage (`python -m podium.tools.bench.proc`) take the names as flags.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from podium.plumbing import names
from podium.settings import Settings


@dataclass(frozen=True, slots=True)
class BenchNames:
    ingest_topic: str
    db_group: str
    rank_group: str

    @classmethod
    def new(cls, run_id: str, stage: str) -> BenchNames:
        prefix = f"podium-bench-{run_id}-{stage}"
        return cls(f"{prefix}.ingest", f"{prefix}-db-worker", f"{prefix}-rank-worker")

    def flags(self) -> list[str]:
        return ["--ingest-topic", self.ingest_topic, "--db-group", self.db_group, "--rank-group", self.rank_group]

    def use(self) -> None:
        """Make this process's pipeline use these names (podium.plumbing.names is read at each use)."""
        names.INGEST_TOPIC = self.ingest_topic
        names.DB_WORKER_GROUP = self.db_group
        names.RANK_WORKER_GROUP = self.rank_group


@contextlib.contextmanager
def isolated(settings: Settings, bench_names: BenchNames) -> Iterator[BenchNames]:
    """Create the stage's topic, start its rank-worker group at the change topic's end,
    use the names in this process; afterwards restore them and delete topic and groups."""
    from podium.log.kafka import ensure_topics

    saved = (names.INGEST_TOPIC, names.DB_WORKER_GROUP, names.RANK_WORKER_GROUP)
    ensure_topics(settings.kafka_bootstrap, {bench_names.ingest_topic: settings.ingest_partitions})
    _start_at_end(settings, bench_names.rank_group, names.changes_topic(settings.cassandra_keyspace))
    bench_names.use()
    try:
        yield bench_names
    finally:
        names.INGEST_TOPIC, names.DB_WORKER_GROUP, names.RANK_WORKER_GROUP = saved
        _delete(settings, bench_names)


def _start_at_end(settings: Settings, group: str, topic: str) -> None:
    """Commit the group's offsets at the topic's current end, so that its first member
    reads only what comes after (a new group would otherwise read from the beginning)."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = [TopicPartition(topic, p, consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1])
                for p in partitions]  # fmt: skip
        consumer.commit(offsets=ends, asynchronous=False)
    finally:
        consumer.close()


def _delete(settings: Settings, bench_names: BenchNames) -> None:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    for future in admin.delete_topics([bench_names.ingest_topic], operation_timeout=30).values():
        with contextlib.suppress(Exception):
            future.result()
    groups = [bench_names.db_group, bench_names.rank_group]
    for future in admin.delete_consumer_groups(groups, request_timeout=30).values():
        with contextlib.suppress(Exception):  # a group that never had a member does not exist
            future.result()
