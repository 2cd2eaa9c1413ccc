"""The db-worker answers a retried idempotency key it applied itself without reading the
store, and a retry still counts once: in the same tenure, after another tenure, after a
failed write."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from podium.domain.boards import Board
from podium.domain.totals import LogPosition, ScoreSubmitted
from podium.errors import BackendUnavailable
from podium.log.sqlite import SqliteLog
from podium.pipeline.codec import encode_event, log_key
from podium.pipeline.db_worker import DbWorker, DbWorkerSettings
from podium.pipeline.known_keys import KnownKeys
from podium.store.base import AppliedKey, IdempotencyKey
from podium.store.sqlite import SqliteStore
from podium.usecases.board_settings import Boards


class KeyCountingStore(SqliteStore):
    """Counts the idempotency keys read, and fails the next write after writing its keys."""

    key_reads: int = 0
    fail_next_write: bool = False

    async def applied_keys(self, keys: Sequence[IdempotencyKey], since_us: int) -> dict[IdempotencyKey, LogPosition]:
        self.key_reads += len(keys)
        return await super().applied_keys(keys, since_us)

    async def write_totals(self, totals: Sequence[object], keys: Sequence[AppliedKey]) -> None:  # type: ignore[override]
        if self.fail_next_write:
            self.fail_next_write = False
            await super().write_totals([], keys)  # the keys written, the totals not: as a crash between
            raise BackendUnavailable("store: write timed out")
        await super().write_totals(totals, keys)  # type: ignore[arg-type]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[KeyCountingStore]:
    store = KeyCountingStore(tmp_path / "store.db")
    await store.open()
    await store.create_board(Board("b"))
    yield store
    await store.close()


def worker(log: SqliteLog, store: KeyCountingStore) -> DbWorker:
    return DbWorker(log.consumer("db-worker"), store, Boards(store, cache_s=0), DbWorkerSettings(poll_timeout_s=0.05))


async def keyed(log: SqliteLog, user: str, score: int, key: str) -> None:
    await log.append([(log_key("b", user), encode_event(ScoreSubmitted("b", user, score, key, 1)))])


async def total(store: SqliteStore, user: str) -> int:
    return (await store.load_totals([("b", user)]))[("b", user)].total


async def test_a_retry_in_the_same_tenure_is_known_without_a_read(log: SqliteLog, store: KeyCountingStore) -> None:
    w = worker(log, store)
    await keyed(log, "u", 5, "k1")
    await w.run_once()
    reads = store.key_reads
    await keyed(log, "u", 5, "k1")  # the client's retry: another record, the same key
    result = await w.run_once()
    assert store.key_reads == reads
    assert result.duplicate_keys == 1
    assert await total(store, "u") == 5


async def test_a_retry_after_another_tenure_is_read_and_counted_once(log: SqliteLog, store: KeyCountingStore) -> None:
    first, second = worker(log, store), worker(log, store)
    await keyed(log, "u", 5, "k1")
    await first.run_once()
    await keyed(log, "u", 5, "k1")
    await second.run_once()  # knows nothing of k1: reads it, and finds it applied
    await first.recover()
    await keyed(log, "u", 5, "k1")
    await first.run_once()
    assert await total(store, "u") == 5


async def test_a_failed_write_forgets_the_keys_and_the_redelivery_counts_once(
    log: SqliteLog, store: KeyCountingStore
) -> None:
    w = worker(log, store)
    await keyed(log, "u", 5, "k1")
    await w.run_once()
    await keyed(log, "u", 7, "k2")
    store.fail_next_write = True
    with pytest.raises(BackendUnavailable):
        await w.run_once()
    assert len(w._keys) == 0
    await w.recover()
    await w.run_once()  # k2 is in the store, applied by this very record: applied now, once
    await keyed(log, "u", 7, "k2")  # and the client's retry of it
    await w.run_once()
    assert await total(store, "u") == 12


def test_a_key_is_held_within_the_window_only() -> None:
    known = KnownKeys()
    known.remember([AppliedKey("b", "k", 1_000, LogPosition(0, 3))])
    assert known.take([("b", "k")], since_us=1_000) == ({("b", "k"): LogPosition(0, 3)}, [])
    assert known.take([("b", "k")], since_us=1_001) == ({}, [("b", "k")])  # expired in the store too


def test_the_oldest_key_goes_first_and_none_are_kept_at_zero() -> None:
    known = KnownKeys(max_keys=2)
    known.remember([AppliedKey("b", k, 1, LogPosition(0, i)) for i, k in enumerate("xyz")])
    assert known.take([("b", "x"), ("b", "y"), ("b", "z")], 0)[1] == [("b", "x")]
    none = KnownKeys(max_keys=0)
    none.remember([AppliedKey("b", "x", 1, LogPosition(0, 1))])
    assert len(none) == 0
