"""The distributed log: Apache Kafka through confluent-kafka (librdkafka).

Producer: idempotent, acks=all, keyed by board:user so one user's events share
a partition (murmur2, as Java clients do). Consumer: a group member that never
auto-commits; the worker commits after its effect is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from podium.domain.totals import LogPosition
from podium.errors import BackendUnavailable
from podium.log.base import LogRecord
from podium.log.group_watch import GroupWatch
from podium.log.own_thread import OwnThread
from podium.plumbing import metrics

if TYPE_CHECKING:
    import confluent_kafka

T = TypeVar("T")
log = logging.getLogger("podium.log.kafka")

# Far longer than a healthy consumer's call takes (a commit, a close, a poll past its own
# timeout): they answer in milliseconds, and while the coordinator restarts a commit fails
# at once ("waiting for coordinator"). Past it the call is stuck (own_thread.py).
CALL_DEADLINE_S = 30.0
# The consumer lag gauge is refreshed this often by the polls (podium_consumer_lag).
LAG_EVERY_S = 1.0


def producer_config(bootstrap: str, **extra: Any) -> dict[str, Any]:
    return {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,  # no duplicates or reordering from producer retries
        "acks": "all",
        "linger.ms": 2,
        # A batch submission's records (1,000 of ~150 B) share one request per partition
        # instead of one per 16 KiB (the default): fewer requests for the broker to handle.
        "batch.size": 262144,
        "compression.type": "lz4",
        "partitioner": "murmur2_random",
        "client.id": "podium-api",
        **extra,
    }


class KafkaLog:
    def __init__(self, bootstrap: str, topic: str, *, producer_extra: dict[str, Any] | None = None) -> None:
        from confluent_kafka import KafkaException, Producer

        self._kafka_exception = KafkaException  # imported once: _produce runs per record
        self.bootstrap = bootstrap
        self.topic = topic
        self._producer = Producer(producer_config(bootstrap, **(producer_extra or {})))
        self._closing = threading.Event()
        self._settler: _Settler | None = None
        # librdkafka calls delivery callbacks from poll(); one thread keeps polling.
        self._poller = threading.Thread(target=self._poll_forever, name="kafka-producer-poll", daemon=True)
        self._poller.start()

    def _poll_forever(self) -> None:
        while not self._closing.is_set():
            self._producer.poll(0.05)

    async def append(self, records: Sequence[tuple[str, bytes]]) -> list[LogPosition]:
        # One future for the whole append, settled once its last record is acknowledged:
        # a future and a loop wake-up per record cost more than producing the record.
        delivery = _Delivery(self._settler_of(asyncio.get_running_loop()), len(records))
        for i, (key, value) in enumerate(records):
            self._produce(key, value, functools.partial(delivery.done, i))
        return await delivery.future

    async def append_without_positions(self, records: Sequence[tuple[str, bytes]]) -> None:
        # One bound method reports every record of the append: no callable built a record, no
        # position built a report (the reports come on the poll thread, one a record).
        acks = _Acks(self._settler_of(asyncio.get_running_loop()), len(records))
        acked = acks.acked
        for key, value in records:
            self._produce(key, value, acked)
        await acks.future

    def _settler_of(self, loop: asyncio.AbstractEventLoop) -> _Settler:
        if self._settler is None or self._settler.loop is not loop:
            self._settler = _Settler(loop)
        return self._settler

    def _produce(self, key: str, value: bytes, on_delivery: Callable[[Any, Any], None]) -> None:
        while True:
            try:
                # A str key goes out as its UTF-8 bytes: no bytes object made here for it.
                self._producer.produce(self.topic, value, key, on_delivery=on_delivery)
                return
            except BufferError:
                self._producer.poll(0.01)  # local queue full: let deliveries drain
            except self._kafka_exception as exc:
                raise BackendUnavailable(f"kafka: {exc}") from exc

    def consumer(self, group: str) -> KafkaLogConsumer:
        return KafkaLogConsumer(self.bootstrap, [self.topic], group)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._producer.flush, 10)
        self._closing.set()
        self._poller.join(2)


class _Settler:
    """Group commit for concurrent appends: the requests whose records went in one produce
    request (linger.ms) are acknowledged together by the poll thread, and woken together,
    one loop wake-up for all of them instead of one each. Each is still answered only
    once every record of its own is acknowledged."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._lock = threading.Lock()
        self._ready: list[_Delivery | _Acks] = []

    def ready(self, delivery: _Delivery | _Acks) -> None:
        with self._lock:
            first = not self._ready
            self._ready.append(delivery)
        if first:
            self.loop.call_soon_threadsafe(self._settle_all)

    def _settle_all(self) -> None:
        with self._lock:
            ready, self._ready = self._ready, []
        for delivery in ready:
            delivery.settle()


class _Delivery:
    """The acknowledgements of one append. librdkafka reports each record on the poll
    thread; the append's future is settled (on the event loop) when the last one is in,
    with every position, or with the first failure."""

    def __init__(self, settler: _Settler, count: int) -> None:
        self._settler = settler
        loop = settler.loop
        self._positions: list[LogPosition | None] = [None] * count
        self._waiting = count
        self._error: Any = None
        # Reports come from the poll thread, and from the appending thread when a full
        # queue makes it poll.
        self._lock = threading.Lock()
        self.future: asyncio.Future[list[LogPosition]] = loop.create_future()
        if count == 0:
            self.future.set_result([])

    def done(self, i: int, err: Any, msg: Any) -> None:
        position = LogPosition(msg.partition(), msg.offset()) if err is None else None
        with self._lock:
            self._positions[i] = position
            self._error = self._error or err
            self._waiting -= 1
            last = self._waiting == 0
        if last:
            self._settler.ready(self)

    def settle(self) -> None:
        _settle(self.future, self._error, self._positions)


class _Acks:
    """The acknowledgements of an append that wants no positions: counted, not placed. The
    future is settled (on the event loop) once the last record is acknowledged; a failed
    record fails it."""

    def __init__(self, settler: _Settler, count: int) -> None:
        self._settler = settler
        self._count = count
        # `next` on a count is one C call, which the GIL makes atomic: reports come from the
        # poll thread and from the appending thread when a full queue makes it poll, and no
        # lock is taken a record.
        self._reported = itertools.count(1)
        self._error: Any = None
        self.future: asyncio.Future[None] = settler.loop.create_future()
        if count == 0:
            self.future.set_result(None)

    def acked(self, err: Any, msg: Any) -> None:
        if err is not None:
            self._error = err  # before this record is counted: the last count sees it
        if next(self._reported) == self._count:
            self._settler.ready(self)

    def settle(self) -> None:
        _settle(self.future, self._error, None)


def _settle(future: asyncio.Future[Any], error: Any, result: Any) -> None:
    """An append's answer, on the event loop: its result, or the first delivery error."""
    if future.done():  # the appending request was cancelled
        return
    if error is not None:
        future.set_exception(BackendUnavailable(f"kafka delivery failed: {error}"))
    else:
        future.set_result(result)


class KafkaLogConsumer:
    """A consumer group member. Its blocking calls run on one thread of its own,
    since a librdkafka consumer must not be used from two threads at once."""

    def __init__(self, bootstrap: str, topics: list[str], group: str, **extra: Any) -> None:
        self._config = {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": False,
            "client.id": group,
            # Fewer, larger fetches: the broker answers a fetch once 256 KiB are there or
            # 25 ms have passed. With the broker answering as soon as one record was there,
            # a loaded pipeline fetched once for each produce request (Debezium's come every
            # 10 ms): the broker's cost is per request more than per record. It adds up to
            # 25 ms a hop to a score's way to visible (two hops; e2e p99's budget is 500 ms).
            "fetch.min.bytes": 262144,
            "fetch.wait.max.ms": 25,
            # A crashed worker's partitions move to the others after 10 s, not 45 s.
            "session.timeout.ms": 10000,
            "heartbeat.interval.ms": 2000,
            # The group state every 5 s, for the watch that replaces a stuck consumer.
            "statistics.interval.ms": 5000,
            **extra,
        }
        self._topics = topics
        self._thread = OwnThread(f"kafka-{group}")
        self._consumer: confluent_kafka.Consumer | None = None
        self._watch = GroupWatch()
        self._closed = False
        # Bumped on the consumer's thread by every assignment change librdkafka reports
        # (served inside poll, before the records of a new assignment) and by every new
        # consumer (a rewind): read on the loop after a poll returns.
        self._tenure = 0
        self._lag_reported_at = -LAG_EVERY_S  # monotonic: the first poll reports

    def tenure(self) -> int:
        return self._tenure

    def _changed_hands(self, consumer: Any, partitions: Any) -> None:
        self._tenure += 1

    async def _run(self, job: Callable[[confluent_kafka.Consumer], T], deadline_s: float = CALL_DEADLINE_S) -> T:
        from confluent_kafka import Consumer, KafkaException

        def call() -> T:
            if self._consumer is not None and self._watch.stuck():
                self._abandon(
                    "kafka consumer out of its group too long: replaced", {"join_state": self._watch.join_state}
                )
            if self._consumer is None:
                self._watch = GroupWatch()
                self._consumer = Consumer({**self._config, "stats_cb": self._watch.saw_stats})
                self._tenure += 1
                self._consumer.subscribe(
                    self._topics,
                    on_assign=self._changed_hands,
                    on_revoke=self._changed_hands,
                    on_lost=self._changed_hands,
                )
            try:
                return job(self._consumer)
            except KafkaException as exc:
                raise BackendUnavailable(f"kafka: {exc}") from exc

        return await self._on_thread(call, deadline_s)

    async def _on_thread(self, fn: Callable[[], T], deadline_s: float = CALL_DEADLINE_S) -> T:
        """`fn` on the consumer's thread. Past `deadline_s` the call is stuck inside
        librdkafka (see own_thread.py): it and its consumer are left on their thread, and
        the next call goes on with a new thread and a new consumer."""
        thread = self._thread
        try:
            return await asyncio.wait_for(thread.run(fn), deadline_s)
        except TimeoutError:
            if thread is self._thread:
                self._thread = OwnThread(f"kafka-{self._config['group.id']}")
                self._abandon(f"kafka consumer call took over {deadline_s:.0f} s: replaced", {}, thread)
            raise BackendUnavailable(f"kafka: a consumer call took over {deadline_s:.0f} s: replaced") from None

    def _abandon(self, why: str, extra: dict[str, Any], thread: OwnThread | None = None) -> None:
        """Replace the consumer: stuck outside its group (`group_watch`, from the consumer's
        thread) or inside a call (`thread`, its old thread, from the loop). Its close would
        go through the same stuck connection, so nobody waits for it: on the old thread
        after the stuck call, else on a daemon thread of its own. The new consumer's tenure
        makes the worker forget what the old one's partitions taught it."""
        stuck, self._consumer = self._consumer, None
        log.warning(why, extra={"group": self._config["group.id"], **extra})
        metrics.CONSUMERS_REPLACED.labels(self._config["group.id"]).inc()
        close = stuck.close if stuck is not None else None
        if thread is not None:
            thread.then_stop(close)
        elif close is not None:
            threading.Thread(target=close, name="kafka-stuck-close", daemon=True).start()

    async def poll(self, max_records: int, timeout_s: float) -> list[LogRecord]:
        messages = await self._run(lambda c: self._consume(c, max_records, timeout_s), timeout_s + CALL_DEADLINE_S)
        records = []
        for msg in messages:
            if msg.error() is not None:
                raise BackendUnavailable(f"kafka: {msg.error()}")
            key = msg.key()
            position = LogPosition(msg.partition() or 0, msg.offset() or 0)
            records.append(LogRecord(position, key.decode() if key else "", msg.value() or b"", msg.topic() or ""))
        return records

    def _consume(self, consumer: confluent_kafka.Consumer, max_records: int, timeout_s: float) -> list[Any]:
        # consume(n, timeout) waits for n messages or the whole timeout, which would
        # put the timeout into every score's latency. So: wait for the first one,
        # then take whatever else is already fetched, without waiting.
        first = consumer.poll(timeout_s)
        messages = [first] if first is not None else []
        if first is not None and max_records > 1:
            messages += consumer.consume(num_messages=max_records - 1, timeout=0)
        now = time.monotonic()
        if now - self._lag_reported_at >= LAG_EVERY_S and self._report_lag(consumer):
            # Only a report that set the gauge starts the period: before its first records a
            # new assignment has no position, and its lag shows with the poll that brings them.
            self._lag_reported_at = now
        return messages

    def _report_lag(self, consumer: confluent_kafka.Consumer) -> bool:
        """Consumer lag per partition, from cached watermarks: no extra round trip, but a
        position and a watermark call per partition, so once every LAG_EVERY_S, not every
        poll (a busy worker polls many times a second; a scrape reads it every few). Whether
        any partition's lag was set."""
        group = self._config["group.id"]
        reported = False
        for tp in consumer.position(consumer.assignment()):
            try:
                _, high = consumer.get_watermark_offsets(tp, cached=True)
            except Exception:
                continue
            if high is not None and high >= 0 and tp.offset >= 0:
                metrics.CONSUMER_LAG.labels(group, str(tp.partition)).set(max(0, high - tp.offset))
                reported = True
        return reported

    async def commit(self, records: Sequence[LogRecord]) -> None:
        # Each record's offset to its own topic: a position is only a partition and an
        # offset, and the home db-worker reads several topics (docs/global.md).
        await self._commit([(r.topic or self._topics[0], r.position) for r in records])

    async def commit_positions(self, positions: Sequence[LogPosition]) -> None:
        """Positions in the first (for a change feed, the only) topic."""
        await self._commit([(self._topics[0], p) for p in positions])

    async def _commit(self, positions: Sequence[tuple[str, LogPosition]]) -> None:
        from confluent_kafka import TopicPartition

        if not positions:
            return
        upto: dict[tuple[str, int], int] = {}
        for topic, p in positions:
            upto[topic, p.partition] = max(upto.get((topic, p.partition), -1), p.offset)
        offsets = [TopicPartition(topic, partition, offset + 1) for (topic, partition), offset in upto.items()]
        await self._run(lambda c: c.commit(offsets=offsets, asynchronous=False))

    async def rewind(self) -> None:
        """Leave the group and join again: every partition restarts from its commit."""
        await self._close_consumer()

    async def _close_consumer(self) -> None:
        def close() -> None:
            # Let go of it first: a close stuck past its deadline is left behind, and a new
            # consumer may be made before it ever returns.
            consumer, self._consumer = self._consumer, None
            if consumer is not None:
                consumer.close()

        with contextlib.suppress(BackendUnavailable):  # a close stuck in librdkafka: left behind
            await self._on_thread(close)

    async def close(self) -> None:
        if self._closed:  # a second close is a no-op, as the port's other adapters make it
            return
        self._closed = True
        await self._close_consumer()
        self._thread.then_stop()


def ensure_topics(bootstrap: str, topics: dict[str, int], *, replication: int = 1, timeout_s: float = 30) -> None:
    """Create missing topics (name → partitions); existing ones are left as they are."""
    from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = admin.list_topics(timeout=timeout_s).topics
    wanted = [
        NewTopic(t, num_partitions=n, replication_factor=replication) for t, n in topics.items() if t not in existing
    ]
    for topic, future in admin.create_topics(wanted, operation_timeout=timeout_s).items() if wanted else ():
        try:
            future.result()
        except Exception as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise BackendUnavailable(f"kafka: cannot create topic {topic}: {exc}") from exc
