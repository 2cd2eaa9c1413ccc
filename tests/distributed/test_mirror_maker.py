"""docs/global.md's layout with a real MirrorMaker 2: an eu api's `Ingest` appends to eu's
Kafka, MirrorMaker 2 (dedicated mode, exactly-once) copies `scores.ingest` to the home
cluster (us) as `eu.scores.ingest`, and the home db-worker's consumer (the topics
`ingest_topics` gives a home us with regions us,eu) reads every record once, in order per
user, stamped with region eu; its commits land on the topic each record came from. The
home db-worker applies them, each user's total recording eu as the region it enters
through, and refuses an eu player's score that entered through us (one region per user).

Two single-node KRaft clusters and MirrorMaker 2 of the test's own (tests/distributed/
private_kafka.py), on free ports: the shared stack is not used."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from podium.bootstrap import ingest_topics, topic_regions
from podium.domain.boards import Board
from podium.domain.totals import ScoreSubmitted, Total
from podium.log.base import LogRecord
from podium.log.kafka import KafkaLog, KafkaLogConsumer, ensure_topics
from podium.pipeline.codec import decode_event
from podium.pipeline.db_worker import BatchResult, DbWorker, DbWorkerSettings
from podium.pipeline.ingest import Ingest, Submission
from podium.plumbing import names
from podium.settings import Settings
from podium.store.sqlite import SqliteStore
from podium.tools.bench import free_port
from podium.usecases.board_settings import Boards
from tests.distributed.private_kafka import JavaProcess, ensure_jars, java_missing, kafka_clusters, mirror_maker

pytestmark = pytest.mark.distributed

BUDGET_S = 120  # JVM starts included; the jar fetch before it is not (a first fetch downloads)
PARTITIONS = 3
BOARD = "arena"
USERS = [f"player-{i}" for i in range(12)]
ROUNDS = 10  # every user submits once a round: 120 submissions, half before the mirror runs


def mm2_properties(eu: str, us: str, rest_port: int) -> str:
    """The mm2.properties of docs/global.md ("MirrorMaker 2, as tested"), for one broker a cluster."""
    return f"""clusters = eu, us
eu.bootstrap.servers = {eu}
us.bootstrap.servers = {us}
eu->us.enabled = true
# A regex; in a properties file a lone backslash is dropped, so \\\\. is a literal dot
eu->us.topics = scores\\\\.ingest
# One broker a cluster: every topic MirrorMaker 2 creates has one replica
replication.factor = 1
config.storage.replication.factor = 1
offset.storage.replication.factor = 1
status.storage.replication.factor = 1
heartbeats.topic.replication.factor = 1
# Podium's consumer groups are home's alone: no offsets translated or synced, so no
# checkpoints and no offset-syncs topic (naming its settings is then an error)
emit.checkpoints.enabled = false
emit.offset-syncs.enabled = false
sync.group.offsets.enabled = false
sync.topic.acls.enabled = false
# Home's topics are made by `podium schema`, with home's settings
sync.topic.configs.enabled = false
refresh.topics.interval.seconds = 5
# Plugins found by their ServiceLoader manifests, not a classpath scan (twice ~15 s here)
plugin.discovery = service_load
# Exactly once: records and the source offsets in one transaction at home
us.exactly.once.source.support = enabled
dedicated.mode.enable.internal.rest = true
listeners = http://127.0.0.1:{rest_port}
eu.consumer.isolation.level = read_committed
"""


def round_of(n: int) -> list[Submission]:
    # Scores rise every round, so a user's records in log order must show them rising;
    # every third user sends idempotency keys (as docs/global.md asks game servers to).
    return [
        Submission(BOARD, user, 100 * n + i, key=f"{user}-round-{n}" if i % 3 == 0 else None)
        for i, user in enumerate(USERS)
    ]


async def submit_in_eu(ingest: Ingest, rounds: range) -> list[tuple[Submission, int]]:
    """Appended through eu's `Ingest`, a round at a time: (submission, the time it was stamped)."""
    sent = []
    for n in rounds:
        batch = round_of(n)
        stamped = await ingest.submit_timed(batch)
        sent += [(s, at_us) for s, (_, at_us) in zip(batch, stamped, strict=True)]
    return sent


async def read_home(consumer: KafkaLogConsumer, count: int, until: float, mirror: JavaProcess) -> list[LogRecord]:
    """Polls until `count` records are in (or the time is up), then a little longer for any extra."""
    records: list[LogRecord] = []
    while len(records) < count and time.monotonic() < until:
        mirror.check_alive()
        records += await consumer.poll(500, 0.5)
    settle_until = time.monotonic() + 2
    while time.monotonic() < settle_until:
        records += await consumer.poll(500, 0.2)
    return records


def watermarks_and_commits(bootstrap: str, topics: list[str], group: str) -> dict[str, tuple[int, int]]:
    """Per topic: (records and markers it holds, the group's committed offsets summed)."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        found: dict[str, tuple[int, int]] = {}
        for topic in topics:
            parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
            high = sum(consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in parts)
            committed = sum(max(tp.offset, 0) for tp in consumer.committed(parts, timeout=10))
            found[topic] = (high, committed)
        return found
    finally:
        consumer.close()


def test_mirror_maker_copies_a_regions_ingest_home_exactly_once(tmp_path: Path) -> None:
    if reason := java_missing():
        pytest.skip(reason)
    ensure_jars()
    started = time.monotonic()
    home = Settings(region="us", regions="us,eu")
    topics = ingest_topics(home)
    assert topics == [names.INGEST_TOPIC, "eu.scores.ingest"]
    with kafka_clusters(tmp_path, ["eu", "us"]) as kafka:
        eu, us = kafka["eu"].bootstrap, kafka["us"].bootstrap
        ensure_topics(eu, {names.INGEST_TOPIC: PARTITIONS})
        ensure_topics(us, dict.fromkeys(topics, PARTITIONS))  # as `podium schema` at home does
        brokers_s = time.monotonic() - started

        async def run(mirror: JavaProcess) -> tuple[list[tuple[Submission, int]], list[LogRecord], float, Home]:
            log = KafkaLog(eu, names.INGEST_TOPIC)
            ingest = Ingest(log, region="eu")
            home_log = KafkaLog(us, names.INGEST_TOPIC)  # home's own api's log
            consumer = KafkaLogConsumer(us, topics, names.DB_WORKER_GROUP)
            store = SqliteStore(tmp_path / "store.db")
            await store.open()
            try:
                # Half while MirrorMaker 2 starts (a backlog to copy), half once it copies.
                sent = await submit_in_eu(ingest, range(ROUNDS // 2))
                first = await read_home(consumer, 1, started + BUDGET_S, mirror)
                first_copy_s = time.monotonic() - started
                sent += await submit_in_eu(ingest, range(ROUNDS // 2, ROUNDS))
                rest = await read_home(consumer, len(sent) - len(first), started + BUDGET_S, mirror)
                await consumer.commit(first + rest)
                return sent, first + rest, first_copy_s, await apply_home(consumer, store, first + rest, home_log)
            finally:
                await consumer.close()
                await log.close()
                await home_log.close()
                await store.close()

        with mirror_maker(tmp_path / "mm2", mm2_properties(eu, us, free_port()), clusters=["us"]) as mirror:
            sent, records, first_copy_s, applied = asyncio.run(run(mirror))
            tail = mirror.tail(60)
        held = watermarks_and_commits(us, topics, names.DB_WORKER_GROUP)
    elapsed_s = time.monotonic() - started
    print(f"brokers up in {brokers_s:.1f} s, first copy home at {first_copy_s:.1f} s, all done in {elapsed_s:.1f} s")

    # Every submission home exactly once, as eu accepted it, stamped with eu.
    events = [decode_event(r.value) for r in records]
    assert len(events) == len(sent), f"{len(events)} records home for {len(sent)} sent\n{tail}"
    expected = [
        ScoreSubmitted(s.board, s.user_id, s.score, s.key, at_us, region="eu")
        for s, at_us in sorted(sent, key=lambda x: x[1])
    ]
    assert sorted(events, key=_stamp) == expected
    assert {r.topic for r in records} == {"eu.scores.ingest"}
    # ... in order per user (a user's records keep their partition, and their order in it).
    by_user: dict[str, list[tuple[Any, int]]] = defaultdict(list)
    for record, event in zip(records, events, strict=True):
        assert isinstance(event, ScoreSubmitted)
        by_user[event.user_id].append((record.position, event.score))
    for user, seen in by_user.items():
        assert len({position.partition for position, _ in seen}) == 1, user
        assert [score for _, score in sorted(seen)] == [score for _, score in seen] == sorted(s for _, s in seen)
    # Exactly-once was on: MirrorMaker 2 wrote in transactions, whose commit markers take
    # offsets of their own (a plain producer would leave exactly one offset a record).
    mirrored_high, mirrored_committed = held["eu.scores.ingest"]
    assert mirrored_high > len(sent), f"no transaction markers in eu.scores.ingest: exactly-once was off\n{tail}"
    # The consumer's commits went to the topic each record came from: all of eu.scores.ingest
    # is committed, and home's own (empty) topic has no commit borrowed from it.
    assert mirrored_committed == sum(r.position.offset + 1 for r in _last_per_partition(records))
    # Home's own topic holds the two scores home's api took, committed there by the db-worker.
    assert held[names.INGEST_TOPIC] == (2, 2)

    # The home db-worker applied eu's records once each; every eu player enters through eu.
    assert (applied.mirrored.written, applied.mirrored.wrong_region) == (len(USERS), 0)
    for user in USERS:
        total = applied.totals[(BOARD, user)]
        assert (total.total, total.region) == (sum(s.score for s, _ in sent if s.user_id == user), "eu"), user
    # An eu player's score entering through us is refused, never applied (before, its low
    # offset in scores.ingest passed for a redelivery of an eu record, lost without a word);
    # a player of us's own is applied, entering through us.
    assert applied.home.wrong_region == 1 and applied.home.records == 2
    assert (applied.totals[(BOARD, "home-player")].total, applied.totals[(BOARD, "home-player")].region) == (7, "us")
    assert elapsed_s < BUDGET_S


class Home:
    """What the home db-worker did: with the mirrored records, then with home's own two."""

    def __init__(self, mirrored: BatchResult, home: BatchResult, totals: dict[tuple[str, str], Total]) -> None:
        self.mirrored, self.home, self.totals = mirrored, home, totals


async def apply_home(
    consumer: KafkaLogConsumer, store: SqliteStore, mirrored: list[LogRecord], home_log: KafkaLog
) -> Home:
    """The home db-worker (us, regions us,eu) over the records read from eu.scores.ingest, then
    over what home's own api appends: a score of an eu player and one of a player of us's."""
    boards = Boards(store)
    await boards.create(Board(BOARD))
    settings = Settings(region="us", regions="us,eu")
    worker = DbWorker(consumer, store, boards, DbWorkerSettings(topic_regions=topic_regions(settings)))
    applied = await worker.apply(mirrored)
    await Ingest(home_log, region="us").submit([Submission(BOARD, USERS[0], 5), Submission(BOARD, "home-player", 7)])
    home = BatchResult()
    deadline = time.monotonic() + 30
    while home.records < 2 and time.monotonic() < deadline:
        step = await worker.run_once()  # polls, applies, commits
        home.records += step.records
        home.written += step.written
        home.wrong_region += step.wrong_region
    totals = await store.load_totals([(BOARD, u) for u in [*USERS, "home-player"]])
    return Home(applied, home, totals)


def _stamp(event: object) -> int:
    assert isinstance(event, ScoreSubmitted)
    return event.submitted_at_us


def _last_per_partition(records: list[LogRecord]) -> list[LogRecord]:
    last: dict[int, LogRecord] = {}
    for record in records:
        if record.position.partition not in last or record.position > last[record.position.partition].position:
            last[record.position.partition] = record
    return list(last.values())
