"""The change feed port's contract (podium/cdc/base.py), for every adapter: the
embedded outbox (SQLite) and Debezium (distributed: Cassandra's commit log read
into the change topic on the local stack).

What every feed must do: a total the store wrote appears on the feed (at least
once, as the port says; the outbox exactly once), each user's totals first seen in
the order they were written; `commit` marks
changes consumed and `rewind` goes back to the last commit.

The Debezium feed reads the stack's one change topic, which other writers share: each
test writes a board of its own and looks only at that board's changes, and its feed's
group starts where the topic ends when the test begins."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from podium.cdc.base import Change, ChangeFeed
from podium.domain.totals import LogPosition, Total
from podium.store.base import Store

KAFKA = "127.0.0.1:9092"


@dataclass
class FeedUnderTest:
    store: Store  # where the changes are written
    open_feed: Callable[[], ChangeFeed]
    board: str
    patience_s: float  # how long a write may take to reach the feed
    # The port promises at least once. The outbox delivers each change once; Debezium may
    # read a commit-log segment again (it did on a fresh stack) and repeat changes.
    exactly_once: bool
    feeds: list[ChangeFeed] = field(default_factory=list)

    def feed(self) -> ChangeFeed:
        feed = self.open_feed()
        self.feeds.append(feed)
        return feed

    def total(self, user: str, version: int, **fields: Any) -> Total:
        position = LogPosition(0, version)
        return Total(self.board, user, 10 * version, version, 1_000 + version, position, **fields)

    async def take(self, feed: ChangeFeed, count: int) -> list[Change]:
        """`count` changes of this test's board (fewer if they do not all come within the
        patience); the other boards' changes are passed over."""
        changes: list[Change] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.patience_s
        while len(changes) < count and (left := deadline - loop.time()) > 0:
            polled = await feed.poll(count - len(changes), min(left, 1.0))
            changes += [c for c in polled if c.total.board == self.board]
        return changes

    async def take_all(self, feed: ChangeFeed, wanted: list[Total]) -> list[Change]:
        """This board's changes until every wanted total has come (or the patience ends),
        repeats included."""
        missing = set(wanted)
        changes: list[Change] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.patience_s
        while missing and (left := deadline - loop.time()) > 0:
            polled = [c for c in await feed.poll(len(missing), min(left, 1.0)) if c.total.board == self.board]
            changes += polled
            missing -= {c.total for c in polled}
        return changes

    async def nothing_more(self, feed: ChangeFeed) -> list[Change]:
        """This board's changes that come in a short while after (none, for a feed that
        delivers each change once)."""
        return [c for c in await feed.poll(100, 0.5) if c.total.board == self.board]


def start_at_the_end(topic: str, group: str) -> None:
    """Commit `group`'s offsets at the topic's end: its first member reads only what comes next."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": KAFKA, "group.id": group, "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = [
            TopicPartition(topic, p, consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1])
            for p in partitions
        ]
        consumer.commit(offsets=ends, asynchronous=False)
    finally:
        consumer.close()


@pytest.fixture(params=["outbox", pytest.param("debezium", marks=pytest.mark.distributed)])
async def fut(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[FeedUnderTest]:
    board = f"t-{uuid.uuid4().hex[:12]}"
    if request.param == "debezium":
        from podium.bootstrap import connect_store
        from podium.cdc.debezium import DebeziumChangeFeed
        from podium.plumbing import names

        settings = request.getfixturevalue("dist_settings")
        cassandra = await asyncio.to_thread(connect_store, settings)  # the keyspace Debezium reads
        topic, group = names.changes_topic(settings.cassandra_keyspace), f"podium-test-feed-{board}"
        await asyncio.to_thread(start_at_the_end, topic, group)
        under = FeedUnderTest(
            cassandra, lambda: DebeziumChangeFeed(KAFKA, topic, group), board, patience_s=30.0, exactly_once=False
        )
        try:
            yield under
        finally:
            for feed in under.feeds:
                await feed.close()
            await cassandra.delete_board([board])
            await cassandra.close()
        return
    from podium.cdc.outbox import OutboxChangeFeed
    from podium.store.sqlite import SqliteStore

    sqlite = SqliteStore(tmp_path / "store.db")
    await sqlite.open()
    under = FeedUnderTest(
        sqlite, lambda: OutboxChangeFeed(sqlite, after_seq=0), board, patience_s=2.0, exactly_once=True
    )
    try:
        yield under
    finally:
        for feed in under.feeds:
            await feed.close()
        await sqlite.close()


async def test_each_written_total_appears_in_order_per_user(fut: FeedUnderTest) -> None:
    feed = fut.feed()
    users = [f"u{i}" for i in range(12)]
    written = []
    for version in (1, 2, 3):  # one write a version, every user in each
        # u2 carries steps (the totals it passed through in a db-worker batch) in its first and
        # second writes, none in its third: a change shows only its own write's steps.
        batch = [
            fut.total(
                u,
                version,
                removed=version == 3 and u == "u0",
                metadata='{"v":1}' if u == "u1" else "",
                steps=f"[[{version - 1},5,0,7,8]]" if u == "u2" and version < 3 else "",
            )
            for u in users
        ]
        await fut.store.write_totals(batch, [])
        written += batch
    changes = await fut.take_all(feed, written)
    changes += await fut.nothing_more(feed)
    delivered = [c.total for c in changes]
    assert set(delivered) == set(written)  # every total, each field as written, and nothing else
    for user in users:
        versions = [t.version for t in delivered if t.user_id == user]
        assert list(dict.fromkeys(versions)) == [1, 2, 3]  # first seen in the order written
        if fut.exactly_once:
            assert versions == [1, 2, 3]


async def test_poll_times_out_empty_then_wakes_on_a_write(fut: FeedUnderTest) -> None:
    feed = fut.feed()
    assert await fut.nothing_more(feed) == []
    total = fut.total("ada", 1)
    await fut.store.write_totals([total], [])
    assert [c.total for c in await fut.take(feed, 1)] == [total]


async def test_rewind_goes_back_to_the_commit(fut: FeedUnderTest) -> None:
    feed = fut.feed()
    written = [fut.total("ada", v) for v in (1, 2, 3)]
    for total in written:
        await fut.store.write_totals([total], [])
    first = await fut.take(feed, 1)
    assert [c.total for c in first] == written[:1]
    await feed.commit(first)
    assert [c.total for c in await fut.take(feed, 2)] == written[1:]
    await feed.rewind()  # the last two were never committed: they come again
    assert [c.total for c in await fut.take(feed, 2)] == written[1:]
    assert await fut.nothing_more(feed) == []


async def test_a_rewind_with_no_commit_goes_back_to_the_start(fut: FeedUnderTest) -> None:
    feed = fut.feed()
    written = [fut.total("ada", 1), fut.total("bob", 1)]
    await fut.store.write_totals(written, [])
    assert sorted(c.total.user_id for c in await fut.take(feed, 2)) == ["ada", "bob"]
    await feed.rewind()
    assert sorted(c.total.user_id for c in await fut.take(feed, 2)) == ["ada", "bob"]


async def test_sqlite_the_changes_taken_from_memory_are_the_table_s(tmp_path: Path) -> None:
    """SQLite only: the feed takes what the store in its process wrote last from memory, and
    a feed reading the table (a new one, from the start) gets the same changes at the same
    positions; what another writer of the file wrote is read from the table."""
    from podium.cdc.outbox import OutboxChangeFeed
    from podium.store.sqlite import SqliteStore

    store, other = SqliteStore(tmp_path / "store.db"), SqliteStore(tmp_path / "store.db")
    await store.open()
    await other.open()
    feeds = [OutboxChangeFeed(store, after_seq=0)]
    try:
        mine = [Total("b", f"u{i}", i, 1, i, LogPosition(0, i), best_total=i, metadata='{"a":1}') for i in range(3)]
        await store.write_totals(mine, [])
        from_memory = await feeds[0].poll(10, 0.1)
        assert from_memory[0].total is mine[0]  # the very total written: taken from memory
        theirs = Total("b", "eve", 9, 1, 9, LogPosition(0, 9), best_total=9)
        await other.write_totals([theirs], [])
        later = Total("b", "u0", 5, 2, 10, LogPosition(0, 10), best_total=5)
        await store.write_totals([later], [])
        from_memory += await feeds[0].poll(10, 0.1)
        feeds.append(OutboxChangeFeed(other, after_seq=0))  # its store wrote only `theirs`
        from_table = await feeds[1].poll(10, 0.1)
        assert [(c.cursor, c.total) for c in from_memory] == [(c.cursor, c.total) for c in from_table]
        assert [c.total for c in from_table] == [*mine, theirs, later]
    finally:
        for feed in feeds:
            await feed.close()
        await other.close()
        await store.close()
