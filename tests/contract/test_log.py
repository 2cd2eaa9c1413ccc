"""The log port's contract, for every adapter: SQLite (embedded) and Kafka
(distributed, on the local stack, a topic of its own for each test).

`poll` gives what has arrived by its time-out, perhaps less than was asked; so the
tests `take` a number of records within an adapter's patience (a Kafka member first
joins its group) rather than expect them from one poll."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from podium.log.base import Log, LogConsumer, LogRecord
from podium.log.sqlite import SqliteLog

KAFKA = "127.0.0.1:9092"


@dataclass
class LogUnderTest:
    log: Log
    patience_s: float  # how long records may take to reach a consumer
    groups_prefix: str = ""  # Kafka's groups are the broker's: each test's are its own
    consumers: list[LogConsumer] = field(default_factory=list)

    def consumer(self, group: str) -> LogConsumer:
        consumer = self.log.consumer(self.groups_prefix + group)
        self.consumers.append(consumer)
        return consumer

    async def take(self, consumer: LogConsumer, count: int) -> list[LogRecord]:
        """`count` records, or fewer if they do not all come within the patience."""
        records: list[LogRecord] = []
        deadline = asyncio.get_running_loop().time() + self.patience_s
        while len(records) < count:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            records += await consumer.poll(count - len(records), min(left, 1.0))
        return records


@pytest.fixture(params=["sqlite", pytest.param("kafka", marks=pytest.mark.distributed)])
async def lut(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[LogUnderTest]:
    if request.param == "kafka":
        request.getfixturevalue("running_stack")
        from confluent_kafka.admin import AdminClient

        from podium.log.kafka import KafkaLog, ensure_topics

        topic = f"podium-test-contract-{uuid.uuid4().hex[:8]}"
        await asyncio.to_thread(ensure_topics, KAFKA, {topic: 3})
        under = LogUnderTest(KafkaLog(KAFKA, topic), patience_s=20.0, groups_prefix=f"{topic}-")
    else:
        sqlite = SqliteLog(tmp_path / "log.db")
        await sqlite.open()
        under = LogUnderTest(sqlite, patience_s=1.0)
    try:
        yield under
    finally:
        for consumer in under.consumers:
            await consumer.close()
        await under.log.close()
        if request.param == "kafka":
            admin = AdminClient({"bootstrap.servers": KAFKA})
            for future in admin.delete_topics([topic], operation_timeout=30).values():
                await asyncio.to_thread(future.result)


def values(records: list[LogRecord]) -> list[bytes]:
    return [r.value for r in records]


async def test_appends_come_back_in_order_with_growing_positions(lut: LogUnderTest) -> None:
    first = await lut.log.append([("k", b"1"), ("k", b"2")])
    second = await lut.log.append([("k", b"3")])
    offsets = [p.offset for p in first + second]
    assert offsets == sorted(offsets) and len(set(offsets)) == 3
    records = await lut.take(lut.consumer("g"), 3)
    assert values(records) == [b"1", b"2", b"3"]
    assert [r.position for r in records] == first + second


async def test_concurrent_appends_each_get_their_own_records_positions(lut: LogUnderTest) -> None:
    # Appends made together may share one write (group commit): each still learns
    # exactly where its own records are.
    batches = [[(f"k{i}", f"{i}.{j}".encode()) for j in range(i % 4)] for i in range(40)]
    answers = await asyncio.gather(*(lut.log.append(batch) for batch in batches))
    records = await lut.take(lut.consumer("g"), sum(len(b) for b in batches))
    where = {r.position: r.value for r in records}
    assert len(where) == len(records) == sum(len(b) for b in batches)
    for batch, positions in zip(batches, answers, strict=True):
        assert [where[p] for p in positions] == [value for _, value in batch]


async def test_appends_without_positions_land_in_order_among_the_others(lut: LogUnderTest) -> None:
    # A batch submitted without wait: only acknowledged, never placed. Its records are in the
    # log once it returns, one key's in the order given, between the appends around it.
    await lut.log.append([("k", b"before")])
    assert await lut.log.append_without_positions([("k", f"{i}".encode()) for i in range(300)]) is None
    await lut.log.append_without_positions([])
    await lut.log.append([("k", b"after")])
    records = await lut.take(lut.consumer("g"), 302)
    assert values(records) == [b"before", *(f"{i}".encode() for i in range(300)), b"after"]


async def test_concurrent_appends_without_positions_each_return_once_theirs_are_in(lut: LogUnderTest) -> None:
    batches = [[(f"k{i % 7}", f"{i}.{j}".encode()) for j in range(i % 5 + 1)] for i in range(40)]
    await asyncio.gather(*(lut.log.append_without_positions(batch) for batch in batches))
    records = await lut.take(lut.consumer("g"), sum(len(b) for b in batches))
    assert sorted(values(records)) == sorted(value for batch in batches for _, value in batch)
    by_key: dict[str, list[bytes]] = {}
    for r in records:
        by_key.setdefault(r.key, []).append(r.value)
    for key, landed in by_key.items():  # one key's records in the order they were appended
        assert landed == [value for batch in batches for k, value in batch if k == key]


async def test_poll_times_out_empty_then_wakes_on_append(lut: LogUnderTest) -> None:
    consumer = lut.consumer("g")
    assert await consumer.poll(10, 0.05) == []
    await lut.log.append([("k", b"x")])
    assert values(await lut.take(consumer, 1)) == [b"x"]


async def test_a_new_member_resumes_after_the_last_commit(lut: LogUnderTest) -> None:
    await lut.log.append([("k", str(i).encode()) for i in range(5)])
    consumer = lut.consumer("g")
    records = await lut.take(consumer, 3)
    assert values(records) == [b"0", b"1", b"2"]
    await consumer.commit(records[:2])
    await consumer.close()  # it leaves the group; the next member takes its partitions
    again = lut.consumer("g")
    assert values(await lut.take(again, 3)) == [b"2", b"3", b"4"]


async def test_rewind_goes_back_to_the_commit(lut: LogUnderTest) -> None:
    await lut.log.append([("k", str(i).encode()) for i in range(4)])
    consumer = lut.consumer("g")
    await consumer.commit(await lut.take(consumer, 1))
    assert values(await lut.take(consumer, 3)) == [b"1", b"2", b"3"]
    await consumer.rewind()
    assert values(await lut.take(consumer, 3)) == [b"1", b"2", b"3"]


async def test_groups_are_independent(lut: LogUnderTest) -> None:
    await lut.log.append([("k", b"a")])
    a, b = lut.consumer("a"), lut.consumer("b")
    await a.commit(await lut.take(a, 1))
    assert values(await lut.take(b, 1)) == [b"a"]


async def test_sqlite_prune_keeps_what_a_group_has_not_committed(tmp_path: Path) -> None:
    """SQLite only: the embedded log prunes itself (a Kafka topic's retention is the broker's)."""
    log = SqliteLog(tmp_path / "log.db")
    await log.open()
    try:
        await log.append([("k", str(i).encode()) for i in range(4)])
        consumer = log.consumer("g")
        await consumer.commit(await consumer.poll(2, 0.1))
        assert await log.prune(retention_s=0) == 2
        assert values(await log.consumer("g").poll(10, 0.1)) == [b"2", b"3"]
    finally:
        await log.close()


async def test_sqlite_records_another_writer_appended_are_read_from_the_table(tmp_path: Path) -> None:
    """SQLite only: a consumer reads this process's last appends from memory (the log's
    tail), and what another writer of the same file appended, between them or after, from
    the table: every record once, in order."""
    log, other = SqliteLog(tmp_path / "log.db"), SqliteLog(tmp_path / "log.db")
    await log.open()
    await other.open()
    try:
        consumer = log.consumer("g")
        await log.append([("k", b"1"), ("k", b"2")])
        assert values(await consumer.poll(10, 0.1)) == [b"1", b"2"]
        await other.append([("k", b"3")])
        await log.append([("k", b"4")])
        assert values(await consumer.poll(10, 0.1)) == [b"3", b"4"]
        await other.append([("k", b"5")])
        assert values(await consumer.poll(10, 0.1)) == [b"5"]
    finally:
        await other.close()
        await log.close()
