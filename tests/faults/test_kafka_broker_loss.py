"""SIGKILL one of three Kafka brokers while Podium's own log adapter (KafkaLog:
idempotent producer, acks=all) appends: with replication factor 3 and
min.insync.replicas 2, every acknowledged record is in the topic exactly once, at
the position its acknowledgement gave, and appends go on while the broker is down.

Runs against `infra/stack.sh up kafka3` (brokers 19092-19094), started here if it
is not running and stopped afterwards. The figures go to
var/faults/kafka_broker_loss.json for docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from podium.errors import BackendUnavailable
from podium.log.kafka import KafkaLog, ensure_topics
from tests.distributed.stack import ROOT, listening
from tests.faults.report import FaultRow, record

pytestmark = [pytest.mark.distributed, pytest.mark.timeout(300)]

BROKER_PORTS = {1: 19092, 2: 19093, 3: 19094}  # node id → client port, as infra/conf/kafka3
BOOTSTRAP = ",".join(f"127.0.0.1:{port}" for port in BROKER_PORTS.values())
PARTITIONS = 6
FIGURES = ROOT / "var" / "faults" / "kafka_broker_loss.json"

PartitionState = dict[int, tuple[int, list[int]]]  # partition → (leader, in-sync replicas)


def stack(*args: str, timeout_s: float = 180) -> None:
    subprocess.run(["bash", str(ROOT / "infra" / "stack.sh"), *args], check=True, timeout=timeout_s)


@pytest.fixture(scope="module")
def kafka3() -> Iterator[str]:
    already = all(listening(port) for port in BROKER_PORTS.values())
    if not already:
        stack("up", "kafka3")
    try:
        yield BOOTSTRAP
    finally:
        if not already:
            stack("down", "kafka3")


@pytest.fixture
def topic(kafka3: str) -> Iterator[str]:
    """A topic of this test's own, deleted afterwards (with every node up again, whatever happened)."""
    name = f"faults.broker-loss.{uuid.uuid4().hex[:8]}"
    yield name
    stack("up", "kafka3")
    admin = admin_client()  # kept alive until the deletion is answered
    for future in admin.delete_topics([name]).values():
        future.result(30)


def sigkill_node(node: int) -> None:
    """SIGKILL a node of the cluster, as `stack.sh kill kafka3-<node>` does, without the shell's
    start-up in between, so the kill's moment is known to the millisecond."""
    pid = int((ROOT / "var" / "run" / f"kafka3-{node}.pid").read_text())
    assert f"kafka3/node-{node}.properties" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    os.kill(pid, signal.SIGKILL)


def admin_client() -> Any:
    from confluent_kafka.admin import AdminClient

    return AdminClient({"bootstrap.servers": BOOTSTRAP})


class ProducerStats:
    """librdkafka's own count of records it transmitted, every second. Past the records
    acknowledged, these are records sent again (to the old leader, then to the new one):
    the retries the idempotent producer must keep from becoming duplicates."""

    def __init__(self) -> None:
        self.transmitted = 0

    def __call__(self, stats_json: str) -> None:
        self.transmitted = int(json.loads(stats_json).get("txmsgs", 0))


def partition_state(admin: Any, topic: str) -> PartitionState:
    partitions = admin.list_topics(topic, timeout=5).topics[topic].partitions
    return {p.id: (p.leader, sorted(p.isrs)) for p in partitions.values()}


def min_insync_replicas(admin: Any, topic: str) -> int:
    from confluent_kafka.admin._config import ConfigResource

    resource = ConfigResource("topic", topic)
    for _ in range(50):  # a broker may not know a topic created a moment ago yet
        try:
            configs = admin.describe_configs([resource])[resource].result(timeout=10)
            return int(configs["min.insync.replicas"].value)
        except Exception as exc:
            if "UNKNOWN_TOPIC" not in str(exc):
                raise
            time.sleep(0.2)
    raise AssertionError(f"no broker knows topic {topic} after 10 s")


async def wait_state(admin: Any, topic: str, ok: Any, timeout_s: float, what: str) -> float:
    """Poll the topic's metadata until ok(state); returns when (time.monotonic())."""
    deadline = time.monotonic() + timeout_s
    state: PartitionState = {}
    while time.monotonic() < deadline:
        try:
            state = await asyncio.to_thread(partition_state, admin, topic)
        except Exception:  # a metadata request cut by the kill: ask again
            state = {}
        if state and ok(state):
            return time.monotonic()
        await asyncio.sleep(0.05)
    raise AssertionError(f"not {what} after {timeout_s}s: {state}")


@dataclass
class Ack:
    value: str
    partition: int  # -1 with offset -1: appended without positions
    offset: int
    at: float  # time.monotonic()


@dataclass
class Stream:
    """Distinct records appended from one asyncio task through KafkaLog, `batch` records an
    append and up to `window` appends in flight, as the api's request handlers would: every
    other append without positions, as a batch submitted without wait is."""

    log: KafkaLog
    run_id: str
    batch: int = 10
    window: int = 8
    pause_s: float = 0.005
    sent: int = 0
    acks: list[Ack] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    mark: int | None = None  # the first record sent after the kill
    acked_since_mark: int = 0

    @property
    def in_flight(self) -> int:
        return self.sent - len(self.acks) - len(self.failed)

    def seq(self, value: str) -> int:
        return int(value.rsplit("-", 1)[1])

    async def run(self, stop: asyncio.Event) -> None:
        window = asyncio.Semaphore(self.window)
        appends: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            await window.acquire()
            values = [f"{self.run_id}-{self.sent + i:07d}" for i in range(self.batch)]
            self.sent += self.batch
            task = asyncio.create_task(self._append(values, window))
            appends.add(task)
            task.add_done_callback(appends.discard)
            await asyncio.sleep(self.pause_s)
        await asyncio.gather(*appends)

    async def _append(self, values: list[str], window: asyncio.Semaphore) -> None:
        try:
            records = [(f"broker-loss:u{self.seq(v) % 97}", v.encode()) for v in values]
            if self.seq(values[0]) // self.batch % 2:
                await self.log.append_without_positions(records)
                now = time.monotonic()
                self.acks += [Ack(v, -1, -1, now) for v in values]
            else:
                positions = await self.log.append(records)
                now = time.monotonic()
                self.acks += [Ack(v, p.partition, p.offset, now) for v, p in zip(values, positions, strict=True)]
            if self.mark is not None:
                self.acked_since_mark += sum(self.seq(v) >= self.mark for v in values)
        except BackendUnavailable:
            self.failed += values
        finally:
            window.release()


async def until(check: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} after {timeout_s}s")
        await asyncio.sleep(0.02)


def read_topic(topic: str, timeout_s: float = 60) -> tuple[list[tuple[int, int, str]], int]:
    """Every record of the topic, from the beginning, by a fresh consumer: (partition, offset,
    value) and the sum of the high watermarks it read up to."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": BOOTSTRAP,
            "group.id": f"faults-check-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    try:
        partitions = list(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
        high = sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        records: list[tuple[int, int, str]] = []
        at_end: set[int] = set()
        deadline = time.monotonic() + timeout_s
        while len(at_end) < len(partitions):
            assert time.monotonic() < deadline, f"topic not read to its end in {timeout_s}s"
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            partition, offset, error, value = msg.partition() or 0, msg.offset() or 0, msg.error(), msg.value()
            if error is not None and error.code() == KafkaError._PARTITION_EOF:
                at_end.add(partition)
            elif error is not None or value is None:
                raise AssertionError(f"consumer: {error or 'a record without a value'}")
            else:
                at_end.discard(partition)
                records.append((partition, offset, value.decode()))
        return records, high
    finally:
        consumer.close()


async def test_sigkill_of_the_busiest_broker_while_producing(kafka3: str, topic: str) -> None:
    t_start = time.monotonic()
    admin = admin_client()
    ensure_topics(kafka3, {topic: PARTITIONS}, replication=3)
    await wait_state(admin, topic, lambda s: all(len(isr) == 3 and lead > 0 for lead, isr in s.values()), 30, "in sync")
    assert min_insync_replicas(admin, topic) == 2

    stats = ProducerStats()
    log = KafkaLog(kafka3, topic, producer_extra={"statistics.interval.ms": 1000, "stats_cb": stats})
    stream = Stream(log, uuid.uuid4().hex[:8])
    stop = asyncio.Event()
    producer = asyncio.create_task(stream.run(stop))
    try:
        await until(lambda: len(stream.acks) >= 3000, 60, "3000 records acknowledged before the kill")

        state = await asyncio.to_thread(partition_state, admin, topic)
        controller = (await asyncio.to_thread(admin.list_topics, topic, timeout=5)).controller_id
        led = Counter(leader for leader, _ in state.values())
        victim = max(led, key=lambda broker: led[broker])
        victim_partitions = {p for p, (leader, _) in state.items() if leader == victim}
        in_flight_at_kill, acked_before = stream.in_flight, len(stream.acks)
        sigkill_node(victim)
        t_kill = time.monotonic()
        stream.mark = stream.sent

        t_led = await wait_state(
            admin, topic, lambda s: all(lead not in (victim, -1) for lead, _ in s.values()), 60, "led by live brokers"
        )
        # Go on appending with the broker down: new records, some on the partitions it led.
        await until(
            lambda: time.monotonic() - t_kill >= 8 and stream.acked_since_mark >= 1000,
            90,
            "1000 records sent after the kill acknowledged",
        )
        stop.set()
        await asyncio.wait_for(producer, 120)
        t_stopped = time.monotonic()
        await asyncio.sleep(1.2)  # one more statistics interval: the final count
    finally:
        stop.set()
        producer.cancel()
        await log.close()

    records, high = await asyncio.to_thread(read_topic, topic)

    t_restart = time.monotonic()
    await asyncio.to_thread(stack, "up", "kafka3")  # the killed node comes back and catches up
    t_rejoined = await wait_state(
        admin, topic, lambda s: all(victim in isr for _, isr in s.values()), 120, "with the node back in every ISR"
    )

    in_topic = Counter(value for _, _, value in records)
    duplicates = sum(n - 1 for n in in_topic.values())
    acked = {a.value for a in stream.acks}
    lost = len(acked - in_topic.keys())
    at = {(partition, offset): value for partition, offset, value in records}
    placed = [a for a in stream.acks if a.partition >= 0]
    misplaced = sum(at.get((a.partition, a.offset)) != a.value for a in placed)
    after = [a for a in stream.acks if a.at > t_kill]
    # When each partition the killed broker led acknowledged its first record sent after the kill.
    new = [a for a in after if stream.seq(a.value) >= stream.mark]
    first_after = {p: min((a.at for a in new if a.partition == p), default=float("inf")) for p in victim_partitions}
    stall_s = max(first_after.values()) - t_kill
    ack_times = sorted(a.at for a in stream.acks)
    figures = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cluster": {"brokers": 3, "replication_factor": 3, "min_insync_replicas": 2, "partitions": PARTITIONS},
        "producer": "podium.log.kafka.KafkaLog (enable.idempotence, acks=all)",
        "killed_broker": victim,
        "partitions_it_led": len(victim_partitions),
        "it_was_the_active_controller": victim == controller,
        "acked_before_kill": acked_before,
        "in_flight_at_kill": in_flight_at_kill,
        "acked_after_kill": len(after),
        "sent_after_kill_and_acked": stream.acked_since_mark,
        "acked_total": len(stream.acks),
        "acked_without_positions": len(stream.acks) - len(placed),
        "failed_appends": len(stream.failed),
        "records_transmitted_again": stats.transmitted - len(stream.acks),
        "records_in_topic": len(records),
        "duplicates": duplicates,
        "lost": lost,
        "at_another_position_than_acked": misplaced,
        "time_without_leader_s": round(t_led - t_kill, 2),
        "write_stall_on_its_partitions_s": round(stall_s, 2) if stall_s < float("inf") else None,
        "longest_gap_between_acks_s": round(max(b - a for a, b in itertools.pairwise(ack_times)), 2),
        "produced_with_broker_down_s": round(t_stopped - t_kill, 2),
        "restart_to_back_in_every_isr_s": round(t_rejoined - t_restart, 2),
        "test_s": round(time.monotonic() - t_start, 1),
    }
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    record(
        FaultRow(
            fault="SIGKILL of one of three Kafka brokers while producing",
            profile="Kafka, RF 3, min ISR 2",
            acked=len(stream.acks),
            in_flight=in_flight_at_kill,
            lost=lost,
            double_counted=duplicates + misplaced,
            converge_s=figures["write_stall_on_its_partitions_s"],
            notes=(
                f"appends through KafkaLog; time to converge = until its partitions took writes again; "
                f"{figures['records_transmitted_again']} records sent twice by the producer, kept once"
            ),
        )
    )

    assert stream.failed == []
    assert duplicates == 0
    assert lost == 0
    assert set(in_topic) == acked  # and nothing unacknowledged slipped in
    assert len(records) == high == len(stream.acks)
    assert misplaced == 0
    assert 0 < len(placed) < len(stream.acks)  # both kinds of append were acknowledged
    assert stream.acked_since_mark > 0
    assert stall_s < float("inf"), "a partition the killed broker led took no write after the kill"
