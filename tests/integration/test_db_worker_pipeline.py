"""The db-worker decides a batch while earlier batches' writes fly (`depth`): no offset is
committed before every batch up to it is durable, and a user met again in a batch while its
last total is still being written ends as if the batches had been applied one at a time.

The store here is the real SQLite one, its writes held at a gate each until the test lets
them land (`HeldWrites`), so that the test, not the timing, chooses the order they land in.
The same pipeline against Cassandra, landing out of order: tests/distributed/
test_db_worker_pipeline.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from podium.domain.boards import Board
from podium.domain.totals import LogPosition, ScoreSubmitted, Total
from podium.log.base import LogConsumer, LogRecord
from podium.log.sqlite import SqliteLog
from podium.pipeline.codec import decode_event, encode_event, log_key
from podium.pipeline.db_worker import DbWorker, DbWorkerSettings
from podium.store.base import AppliedKey, Store
from podium.store.sqlite import SqliteStore
from podium.usecases.board_settings import Boards


class HeldWrites:
    """A store whose every write waits at a gate of its own until `release(i)` (i: the
    order the writes reached the store), and which records the totals that landed."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.gates: list[asyncio.Event] = []
        self.landed: list[int] = []  # the gates' numbers, in the order their writes landed
        self.totals: list[Total] = []  # every total landed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def write_totals(self, totals: Sequence[Total], keys: Sequence[AppliedKey]) -> None:
        number = len(self.gates)
        gate = asyncio.Event()
        self.gates.append(gate)
        await gate.wait()
        await self._store.write_totals(totals, keys)
        self.landed.append(number)
        self.totals.extend(totals)

    def release(self, number: int) -> None:
        self.gates[number].set()

    def release_all(self) -> None:
        for gate in self.gates:
            gate.set()

    def waiting(self) -> list[int]:
        return [i for i, gate in enumerate(self.gates) if not gate.is_set()]

    def is_durable(self, record: LogRecord) -> bool:
        """Whether the record's effect has landed: a total of its user at its position or later."""
        event = decode_event(record.value)
        p = record.position
        return any(
            t.user_id == event.user_id and t.position.partition == p.partition and t.position.offset >= p.offset
            for t in self.totals
        )


class CommitWatch:
    """The worker's consumer, watched: at each commit, any record at or before a committed
    offset whose effect has not landed is a fault (it would be lost by a crash then)."""

    def __init__(self, consumer: LogConsumer, store: HeldWrites) -> None:
        self._consumer = consumer
        self._store = store
        self.polled: list[LogRecord] = []
        self.committed: dict[int, int] = {}  # partition → highest offset committed
        self.faults: list[LogPosition] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._consumer, name)

    async def poll(self, max_records: int, timeout_s: float) -> list[LogRecord]:
        records = await self._consumer.poll(max_records, timeout_s)
        self.polled.extend(records)
        return records

    async def commit(self, records: Sequence[LogRecord]) -> None:
        for r in records:
            p = r.position
            self.committed[p.partition] = max(self.committed.get(p.partition, -1), p.offset)
        self.faults += [
            r.position
            for r in self.polled
            if r.position.offset <= self.committed.get(r.position.partition, -1) and not self._store.is_durable(r)
        ]
        await self._consumer.commit(records)


async def until(check: Any, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(tmp_path / "store.db")
    await store.open()
    await store.create_board(Board("b"))
    yield store
    await store.close()


async def score(log: SqliteLog, user: str, points: int, key: str | None = None, board: str = "b") -> None:
    await log.append([(log_key(board, user), encode_event(ScoreSubmitted(board, user, points, key, 1)))])


def pipelined(log: SqliteLog, store: Store, **settings: Any) -> tuple[DbWorker, HeldWrites, CommitWatch]:
    held = HeldWrites(store)
    watch = CommitWatch(log.consumer("db-worker"), held)
    boards = Boards(store, cache_s=0)
    worker = DbWorker(watch, held, boards, DbWorkerSettings(poll_timeout_s=0.05, **settings))  # type: ignore[arg-type]
    return worker, held, watch


async def totals(store: Store, *users: str) -> dict[str, tuple[int, int]]:
    found = await store.load_totals([("b", u) for u in users])
    return {u: (found[("b", u)].total, found[("b", u)].version) for u in users}


async def test_no_offset_is_committed_before_every_earlier_batch_is_durable(log: SqliteLog, store: SqliteStore) -> None:
    # u and v score without idempotency keys: nothing makes the second write wait for the
    # first, and the test can land it first.
    await score(log, "u", 1)
    await score(log, "v", 1)
    await DbWorker(log.consumer("db-worker"), store, Boards(store), DbWorkerSettings(poll_timeout_s=0.05)).run_once()
    worker, held, watch = pipelined(log, store, batch_size=1, depth=3)
    await score(log, "u", 2)  # batch 1
    await score(log, "v", 3)  # batch 2
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await until(lambda: len(held.waiting()) == 2)  # both batches' writes in flight
        held.release(1)  # the later batch lands first
        await until(lambda: held.landed == [1])
        await asyncio.sleep(0.3)  # time for the worker to commit, if it would
        assert watch.committed == {}, "an offset committed while an earlier batch was not durable"
        held.release(0)
        await until(lambda: len(watch.polled) == 2 and all(o >= 1 for o in watch.committed.values()))
    finally:
        stop.set()
        held.release_all()
        await asyncio.wait_for(running, 5)
    assert watch.faults == []
    last = max(watch.polled, key=lambda r: r.position.offset).position
    assert watch.committed[last.partition] == last.offset
    assert await totals(store, "u", "v") == {"u": (3, 2), "v": (4, 2)}


async def test_a_landed_batch_is_committed_after_the_next_write_has_started(log: SqliteLog, store: SqliteStore) -> None:
    # Depth 2: a batch's write lands while the next is decided; its offsets are committed once
    # the next write is on its way (the commit's round trip is not between the two writes),
    # and still only once its own write is durable.
    worker, held, watch = pipelined(log, store, batch_size=1, depth=2)
    writes_at_commit: list[int] = []
    commit = watch.commit

    async def watched(records: Sequence[LogRecord]) -> None:
        writes_at_commit.append(len(held.gates))
        await commit(records)

    watch.commit = watched  # type: ignore[method-assign]
    await score(log, "u", 1)  # batch 0
    await score(log, "v", 2)  # batch 1
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await until(lambda: len(held.gates) == 1)
        held.release(0)
        await until(lambda: len(held.gates) == 2 and watch.committed != {})
        assert writes_at_commit[0] == 2, "batch 0 committed before batch 1's write started"
        held.release(1)
        await until(lambda: watch.committed.get(0, -1) >= 1)
    finally:
        stop.set()
        held.release_all()
        await asyncio.wait_for(running, 5)
    assert watch.faults == []
    assert await totals(store, "u", "v") == {"u": (1, 1), "v": (2, 1)}


RECORDS = [  # (user, points, idempotency key); batches of two, so each user meets the next batch
    ("u", 2, None),
    ("w", 5, None),  # w's first total
    ("u", 3, "k1"),
    ("w", 1, None),
    ("u", 4, None),
    ("x", 1, None),
    ("u", 1, "k1"),  # a retry of k1: counted once
    ("w", 2, None),
    ("x", 2, "k2"),
    ("u", 7, None),
]


async def apply_records(
    log: SqliteLog, store: Store, depth: int, *, reverse: bool, board: str = "b", users: str = ""
) -> HeldWrites:
    """RECORDS through a worker of `depth` in batches of two, on `board`, each user's id
    prefixed with `users`; `reverse`: a waiting write lands only once a later one waits
    too, the newest first."""
    await score(log, f"{users}u", 1, board=board)  # u holds a total already
    await DbWorker(log.consumer("db-worker"), store, Boards(store), DbWorkerSettings(poll_timeout_s=0.05)).run_once()
    for user, points, key in RECORDS:
        await score(log, f"{users}{user}", points, key, board=board)
    worker, held, watch = pipelined(log, store, batch_size=2, depth=depth)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        while len(held.landed) < len(RECORDS) // 2:
            waiting = held.waiting()
            if waiting and not reverse:
                held.release(waiting[0])
            elif len(waiting) >= 2:
                held.release(waiting[-1])  # the newer overtakes
            elif waiting:
                # One write waits: a later one may still come and overtake it, or the
                # worker is waiting for this one.
                await asyncio.sleep(0.2)
                if held.waiting() == waiting:
                    held.release(waiting[0])
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        held.release_all()
        await asyncio.wait_for(running, 5)
    assert watch.faults == []
    return held


def essentials(t: Total) -> tuple[Any, ...]:
    return (t.total, t.version, t.position, t.best_total, t.subscore, t.removed, t.hidden, t.steps)


async def test_a_user_in_consecutive_batches_in_flight_ends_as_one_batch_at_a_time(
    tmp_path: Path, store: SqliteStore
) -> None:
    reference = SqliteStore(tmp_path / "reference.db")
    await reference.open()
    await reference.create_board(Board("b"))
    one_log, two_log = SqliteLog(tmp_path / "one.db"), SqliteLog(tmp_path / "two.db")
    await one_log.open()
    await two_log.open()
    try:
        await apply_records(one_log, reference, depth=1, reverse=False)
        # SQLite writes what it is given last: its writes land in order (depth 2: one at a
        # time, each batch decided while the one before it is written).
        held = await apply_records(two_log, store, depth=2, reverse=False)
        assert held.landed == sorted(held.landed)
        users = [("b", u) for u in ("u", "w", "x")]
        want = {u: essentials(t) for u, t in (await reference.load_totals(users)).items()}
        got = {u: essentials(t) for u, t in (await store.load_totals(users)).items()}
        assert got == want
        assert (await totals(store, "u"))["u"] == (1 + 2 + 3 + 4 + 7, 6)  # the retry of k1 applied once
        assert await store.user_boards("w") == ["b"]
    finally:
        await one_log.close()
        await two_log.close()
        await reference.close()


async def test_a_record_whose_user_the_api_would_refuse_is_skipped(log: SqliteLog, store: SqliteStore) -> None:
    # Put in the log past the api: the rank shards read users as tab-separated rows, so such
    # a user must never reach them, and the records after it still apply.
    await score(log, "u\tx", 1)
    await score(log, "u", 2)
    result = await DbWorker(
        log.consumer("db-worker"), store, Boards(store), DbWorkerSettings(poll_timeout_s=0.05)
    ).run_once()
    assert (result.invalid, result.written) == (1, 1)
    assert set(await store.load_totals([("b", "u\tx"), ("b", "u")])) == {("b", "u")}


async def test_a_landed_write_is_committed_without_waiting_out_a_poll(log: SqliteLog, store: SqliteStore) -> None:
    # The last batch of a burst: once its write lands its offset is committed (and counted)
    # at once, not when a poll of nothing ends, however long the poll timeout.
    held = HeldWrites(store)
    watch = CommitWatch(log.consumer("db-worker"), held)
    settings = DbWorkerSettings(poll_timeout_s=4, depth=3)
    worker = DbWorker(watch, held, Boards(store, cache_s=0), settings)  # type: ignore[arg-type]
    await score(log, "u", 1)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await until(lambda: held.waiting() == [0])
        held.release(0)
        await until(lambda: watch.committed != {}, timeout_s=1)
    finally:
        stop.set()
        held.release_all()
        await asyncio.wait_for(running, 10)
    assert watch.faults == []
