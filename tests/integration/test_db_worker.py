"""The db-worker applies each record exactly once, whatever is redelivered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from podium.domain.boards import Board
from podium.domain.totals import LogPosition, ScoreSubmitted
from podium.log.base import LogRecord
from podium.log.sqlite import SqliteLog
from podium.pipeline.codec import encode_event, log_key
from podium.pipeline.db_worker import DbWorker, DbWorkerSettings
from podium.store.base import AppliedKey
from podium.store.sqlite import SqliteStore
from podium.usecases.board_settings import Boards


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[tuple[SqliteLog, SqliteStore, DbWorker]]:
    log = SqliteLog(tmp_path / "log.db")
    store = SqliteStore(tmp_path / "store.db")
    await log.open()
    await store.open()
    boards = Boards(store)
    await boards.create(Board("b"))
    yield log, store, DbWorker(log.consumer("db-worker"), store, boards, DbWorkerSettings(poll_timeout_s=0.1))
    await log.close()
    await store.close()


def record(offset: int, user: str, score: int, key: str | None = None) -> LogRecord:
    event = ScoreSubmitted("b", user, score, key, offset * 10)
    return LogRecord(LogPosition(0, offset), log_key("b", user), encode_event(event))


async def total(store: SqliteStore, user: str) -> int:
    return (await store.load_totals([("b", user)]))[("b", user)].total


async def test_a_redelivered_batch_is_recognised_by_log_position(
    parts: tuple[SqliteLog, SqliteStore, DbWorker],
) -> None:
    _, store, worker = parts
    batch = [record(1, "u", 5), record(2, "u", 7), record(3, "v", 1)]
    assert (await worker.apply(batch)).written == 2
    again = await worker.apply(batch)  # a crash before the offset commit
    assert (again.written, again.redelivered) == (0, 3)
    partly = await worker.apply([record(3, "v", 1), record(4, "u", 1)])  # overlapping redelivery
    assert (partly.written, partly.redelivered) == (1, 1)
    assert (await total(store, "u"), await total(store, "v")) == (13, 1)


async def test_a_retried_key_counts_once_even_within_one_batch(parts: tuple[SqliteLog, SqliteStore, DbWorker]) -> None:
    _, store, worker = parts
    result = await worker.apply([record(1, "u", 5, "k"), record(2, "u", 5, "k")])
    assert result.duplicate_keys == 1
    assert (await worker.apply([record(3, "u", 5, "k")])).duplicate_keys == 1
    assert await total(store, "u") == 5


async def test_a_key_written_without_its_total_is_still_applied_on_redelivery(
    parts: tuple[SqliteLog, SqliteStore, DbWorker],
) -> None:
    """A store that writes keys first, then totals, crashed in between."""
    _, store, worker = parts
    await store.write_totals([], [AppliedKey("b", "k", 1, LogPosition(0, 1))])
    assert (await worker.apply([record(1, "u", 5, "k")])).duplicate_keys == 0
    assert await total(store, "u") == 5


async def test_run_once_commits_only_after_the_write(parts: tuple[SqliteLog, SqliteStore, DbWorker]) -> None:
    log, store, worker = parts
    await log.append([(log_key("b", "u"), encode_event(ScoreSubmitted("b", "u", 3, None, 1)))] * 3)
    assert (await worker.run_once()).written == 1
    assert await total(store, "u") == 9
    assert await log.consumer("db-worker").poll(10, 0.05) == []  # committed: nothing left for the group


async def test_an_invalid_record_is_skipped_not_retried_forever(parts: tuple[SqliteLog, SqliteStore, DbWorker]) -> None:
    log, store, worker = parts
    await log.append([("b:u", b"garbage"), (log_key("b", "u"), encode_event(ScoreSubmitted("b", "u", 3, None, 1)))])
    result = await worker.run_once()
    assert (result.invalid, result.written) == (1, 1)
    assert await total(store, "u") == 3
