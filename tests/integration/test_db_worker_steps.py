"""The db-worker writes one total a user a batch; with the rank history on, that total
carries the totals the user passed through in the batch (`Total.steps`), so the change
feed shows every change: oldest first, removals left out, at most the setting's number,
and none carried into the next batch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from podium.cdc.outbox import OutboxChangeFeed
from podium.domain.boards import Board
from podium.domain.totals import ScoreSubmitted, Total, UserRemoved, steps_of
from podium.log.sqlite import SqliteLog
from podium.pipeline.codec import encode_event, log_key
from podium.pipeline.db_worker import DbWorker, DbWorkerSettings
from podium.store.sqlite import SqliteStore
from podium.usecases.board_settings import Boards

Parts = tuple[SqliteLog, SqliteStore, OutboxChangeFeed]


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[Parts]:
    log = SqliteLog(tmp_path / "log.db")
    store = SqliteStore(tmp_path / "store.db")
    await log.open()
    await store.open()
    await store.create_board(Board("b"))
    feed = OutboxChangeFeed(store, after_seq=0)
    yield log, store, feed
    await feed.close()
    await store.close()
    await log.close()


async def batch(parts: Parts, keep: int, *events: ScoreSubmitted | UserRemoved) -> Total:
    """The events as one batch of a worker keeping `keep` steps; the change it wrote for u."""
    log, store, feed = parts
    await log.append([(log_key("b", e.user_id), encode_event(e)) for e in events])
    worker = DbWorker(
        log.consumer(f"db-{keep}"), store, Boards(store), DbWorkerSettings(poll_timeout_s=0.05, keep_steps=keep)
    )
    await worker.run_once()
    [change] = [c for c in await feed.poll(100, 0.1) if c.total.user_id == "u"]
    return change.total


def scored(points: int, at: int) -> ScoreSubmitted:
    return ScoreSubmitted("b", "u", points, None, at)


async def test_a_batch_carries_every_total_the_user_passed_through(parts: Parts) -> None:
    change = await batch(parts, 100, scored(1, 10), scored(2, 20), UserRemoved("b", "u", 30), scored(5, 40))
    assert (change.version, change.total) == (4, 5)
    # Version 3 was the removal: no point for it.
    assert [(s.version, s.total, s.updated_at_us, s.removed) for s in steps_of(change)] == [
        (1, 1, 10, False),
        (2, 3, 20, False),
    ]
    # The next batch starts afresh: one event, no steps (its stored row's are not carried).
    assert (await batch(parts, 100, scored(1, 50))).steps == ""


async def test_steps_are_bounded_and_off_with_the_history(parts: Parts) -> None:
    kept = await batch(parts, 2, *(scored(1, 10 * i) for i in range(1, 6)))
    assert [s.version for s in steps_of(kept)] == [3, 4]  # the newest two before version 5
    assert (await batch(parts, 0, scored(1, 60), scored(1, 70))).steps == ""
