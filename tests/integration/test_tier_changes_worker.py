"""The rank-worker records tier_changed before it applies a batch (pipeline/rank_worker.py):
a worker that fails between recording and committing, at either side of its apply, reads
the batch again and ends with each change recorded once. On the embedded engines (SQLite
store and webhook store, the in-memory index); the change feed is a list that gives back
what was not committed, as the outbox and Kafka feeds do after a rewind."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import orjson
import pytest

from podium.cdc.base import Change
from podium.domain import webhooks as wh
from podium.domain.boards import Board
from podium.domain.cohorts import Tier
from podium.domain.totals import LogPosition, Total
from podium.errors import BackendUnavailable
from podium.index.memory import MemoryRankIndex
from podium.pipeline.rank_worker import RankWorker, RankWorkerSettings
from podium.store.sqlite import SqliteStore
from podium.usecases.board_settings import Boards
from podium.usecases.tier_changes import TierChanges
from podium.visibility.local import LocalVisibility
from podium.webhooks.base import Delivery
from podium.webhooks.sqlite import SqliteWebhookStore

BOARD = Board("league", tiers=(Tier("gold", min_score=100), Tier("silver", min_score=50)))


class ListFeed:
    """Changes in order; `poll` gives the next uncommitted ones, `rewind` goes back to the commit."""

    def __init__(self, changes: list[Change], *, fail_commits: int = 0) -> None:
        self._changes = changes
        self._committed = 0
        self._read = 0
        self.fail_commits = fail_commits

    async def poll(self, max_changes: int, timeout_s: float) -> list[Change]:
        batch = self._changes[self._read : self._read + max_changes]
        self._read += len(batch)
        return batch

    async def commit(self, changes: Sequence[Change]) -> None:
        if self.fail_commits:
            self.fail_commits -= 1
            raise BackendUnavailable("killed after the apply, before the commit")
        self._committed = self._read

    def drained(self) -> bool:
        return self._committed == len(self._changes)

    async def rewind(self) -> None:
        self._read = self._committed

    async def close(self) -> None:
        return None


class FailingHooks(SqliteWebhookStore):
    """The embedded webhook store, whose first `fail_adds` inserts fail (killed while recording)."""

    fail_adds = 0

    async def add_delivery(self, delivery: Delivery) -> bool:
        if self.fail_adds:
            self.fail_adds -= 1
            raise BackendUnavailable("killed while recording")
        return await super().add_delivery(delivery)


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[tuple[SqliteStore, FailingHooks]]:
    store = SqliteStore(tmp_path / "store.db")
    await store.open()
    await store.create_board(BOARD)
    hooks = FailingHooks(tmp_path / "webhooks.db")
    await hooks.open()
    await hooks.put_webhook(wh.Webhook("h", "http://127.0.0.1:9/x", (wh.TIER_CHANGED,), "s" * 20, 1))
    yield store, hooks
    await hooks.close()
    await store.close()


def changes() -> list[Change]:
    """ada: 30, 60 (silver), 70, 120 (gold); bob: 200 (gold)."""
    out = []
    for n, (user, version, score) in enumerate(
        [("ada", 1, 30), ("ada", 2, 60), ("bob", 1, 200), ("ada", 3, 70), ("ada", 4, 120)]
    ):
        total = Total(BOARD.name, user, score, version, n, LogPosition(0, n), updated_at_us=10**15 + n)
        out.append(Change(LogPosition(0, n), total))
    return out


def worker(store: SqliteStore, hooks: FailingHooks, feed: ListFeed, index: MemoryRankIndex) -> RankWorker:
    tiers = TierChanges(hooks, index, hooks_every_s=0)
    return RankWorker(feed, index, Boards(store), LocalVisibility(index), RankWorkerSettings(batch_size=3), tiers=tiers)


async def run_through(w: RankWorker, feed: ListFeed) -> int:
    """Run the worker until the feed is committed to its end, recovering (rewinding) after
    each failure, as the supervisor does; how many failures there were."""
    failures = 0
    while not feed.drained():
        try:
            await w.run_once()
        except BackendUnavailable:
            failures += 1
            await w.recover()
    return failures


async def told(hooks: SqliteWebhookStore) -> list[tuple[str, str | None, str | None]]:
    bodies = [orjson.loads(d.body) for d in await hooks.deliveries("h", 100)]
    return sorted(((b["user_id"], b["previous_tier"], b["tier"]) for b in bodies), key=str)


EXPECTED = sorted([("ada", None, "silver"), ("ada", "silver", "gold"), ("bob", None, "gold")], key=str)


async def test_killed_while_recording_before_the_apply_records_each_change_once(
    parts: tuple[SqliteStore, FailingHooks],
) -> None:
    store, hooks = parts
    hooks.fail_adds = 1
    index, feed = MemoryRankIndex(), ListFeed(changes())
    assert await run_through(worker(store, hooks, feed, index), feed) == 1
    assert await told(hooks) == EXPECTED  # the failed batch was not applied: read again, recorded
    assert (await index.entry(BOARD, "ada")) is not None


async def test_killed_after_the_apply_records_nothing_twice(parts: tuple[SqliteStore, FailingHooks]) -> None:
    store, hooks = parts
    feed = ListFeed(changes(), fail_commits=2)
    assert await run_through(worker(store, hooks, feed, MemoryRankIndex()), feed) == 2
    assert await told(hooks) == EXPECTED
