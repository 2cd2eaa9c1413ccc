"""KafkaLog.append against the real broker: every record's position is where it landed,
in the order the records were given, whatever order the acknowledgements came in."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from podium.log.kafka import KafkaLog, ensure_topics

pytestmark = pytest.mark.distributed

BOOTSTRAP = "127.0.0.1:9092"
PARTITIONS = 3


@pytest.fixture
def topic(running_stack: None) -> Iterator[str]:
    name = f"podium-test-log-{uuid.uuid4().hex[:8]}"
    ensure_topics(BOOTSTRAP, {name: PARTITIONS})
    yield name
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})  # kept alive until the deletion is done
    for future in admin.delete_topics([name], operation_timeout=30).values():
        future.result()


def read_back(topic: str, count: int) -> dict[tuple[int, int], tuple[bytes, bytes]]:
    """(partition, offset) → (key, value) of every record in the topic."""
    consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": f"{topic}-check", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    found: dict[tuple[int, int], tuple[bytes, bytes]] = {}
    try:
        while len(found) < count:
            msg = consumer.poll(10)
            assert msg is not None, f"read {len(found)} of {count} records"
            assert msg.error() is None, msg.error()
            found[(msg.partition(), msg.offset())] = (msg.key(), msg.value())
    finally:
        consumer.close()
    return found


async def test_each_record_gets_the_position_it_landed_at(topic: str) -> None:
    log = KafkaLog(BOOTSTRAP, topic)
    try:
        # Keys repeat within the batch: one key's records share a partition, in order.
        batch = [(f"b:u{i % 37}", f"v{i}".encode()) for i in range(500)]
        positions = await log.append(batch)
        [single] = await log.append([("b:u5", b"after")])
        assert await log.append([]) == []
    finally:
        await log.close()
    landed = read_back(topic, len(batch) + 1)
    assert [landed[(p.partition, p.offset)] for p in positions] == [(k.encode(), v) for k, v in batch]
    assert landed[(single.partition, single.offset)] == (b"b:u5", b"after")
    by_key: dict[str, list[tuple[int, int]]] = {}
    for (key, _), p in zip([*batch, ("b:u5", b"")], [*positions, single], strict=True):
        by_key.setdefault(key, []).append((p.partition, p.offset))
    for places in by_key.values():
        assert len({partition for partition, _ in places}) == 1
        assert places == sorted(places)


async def test_a_rebalance_and_a_rewind_each_change_the_tenure(topic: str) -> None:
    """What a db-worker remembers of its partitions' users holds within one tenure
    (podium/pipeline/known_totals.py): a member joining takes partitions from the first, and the
    first must hear of it before it reads another record."""
    import asyncio

    log = KafkaLog(BOOTSTRAP, topic)
    first, second = log.consumer(f"{topic}-group"), log.consumer(f"{topic}-group")
    try:
        await log.append([(f"b:u{i}", b"v") for i in range(30)])
        assert await first.poll(100, 10)
        settled = first.tenure()
        await first.poll(100, 0.2)  # alone in the group: its assignment stays
        assert first.tenure() == settled
        # The second member joins; the first hears of the rebalance inside a later poll.
        joining = asyncio.create_task(second.poll(100, 15))
        for _ in range(100):
            await first.poll(100, 0.2)
            if first.tenure() != settled:
                break
        assert first.tenure() != settled
        await joining
        before = second.tenure()
        await second.rewind()
        await second.poll(1, 5)
        assert second.tenure() != before
    finally:
        await first.close()
        await second.close()
        await log.close()


async def test_a_consumer_out_of_its_group_too_long_is_replaced(topic: str) -> None:
    """A member stuck outside its group after a broker restart (podium/log/group_watch.py)
    is replaced by a new consumer: it reads on from the group's committed positions, under
    a new tenure, so the worker forgets what the stuck one's partitions taught it."""
    from podium.log.base import LogRecord
    from podium.plumbing import metrics

    group = f"{topic}-group"
    log = KafkaLog(BOOTSTRAP, topic)
    consumer = log.consumer(group)
    try:
        await log.append([("b:u1", f"v{i}".encode()) for i in range(10)])  # one key: one partition, in order
        read: list[LogRecord] = []
        for _ in range(50):
            read += await consumer.poll(100, 1)
            if len(read) == 10:
                break
        assert [r.value for r in read] == [f"v{i}".encode() for i in range(10)]
        await consumer.commit(read[:4])
        await consumer.poll(1, 6)  # at least one statistics report: steady
        assert consumer._watch.join_state == "steady" and not consumer._watch.stuck()
        replaced = metrics.CONSUMERS_REPLACED.labels(group)._value.get()
        tenure = consumer.tenure()
        # What a member stuck in a rejoin reports, for longer than the limit.
        consumer._watch.saw_stats('{"cgrp": {"join_state": "wait-join"}}')
        consumer._watch._steady_at -= 3600
        again: list[bytes] = []
        for _ in range(50):
            again += [r.value for r in await consumer.poll(100, 1)]
            if len(again) >= 6:
                break
        assert again == [f"v{i}".encode() for i in range(4, 10)]
        assert consumer.tenure() != tenure
        assert metrics.CONSUMERS_REPLACED.labels(group)._value.get() == replaced + 1
    finally:
        await consumer.close()
        await log.close()


async def test_a_consumer_call_stuck_past_its_deadline_is_left_behind(topic: str) -> None:
    """A call that never returns (a synchronous commit or a close stuck on a coordinator
    connection, podium/log/own_thread.py) fails after its deadline; the consumer and its
    thread are left behind and the next call reads on with a new consumer and tenure."""
    import threading

    from podium.errors import BackendUnavailable
    from podium.log.base import LogRecord

    group = f"{topic}-group"
    log = KafkaLog(BOOTSTRAP, topic)
    consumer = log.consumer(group)
    release = threading.Event()
    try:
        await log.append([("b:u1", f"v{i}".encode()) for i in range(6)])
        read: list[LogRecord] = []
        for _ in range(50):
            read += await consumer.poll(100, 1)
            if len(read) == 6:
                break
        await consumer.commit(read[:2])
        tenure = consumer.tenure()
        with pytest.raises(BackendUnavailable, match="took over 1 s"):
            await consumer._run(lambda c: release.wait(30), deadline_s=1.0)
        again: list[bytes] = []
        for _ in range(50):
            again += [r.value for r in await consumer.poll(100, 1)]
            if len(again) >= 4:
                break
        assert again == [f"v{i}".encode() for i in range(2, 6)]
        assert consumer.tenure() != tenure
    finally:
        release.set()
        await consumer.close()
        await log.close()
