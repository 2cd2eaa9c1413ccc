"""The rank-worker's part of tier_changed (usecases/tier_changes.py) on real engines: the
embedded webhook store and in-memory index, and Cassandra with a Redis index. A batch read
again (a worker killed before or after its apply, the feed not committed) records each change
once, under one id; a board without tiers, or with no webhook that wants the event, costs no
read of the index."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from podium.domain import webhooks as wh
from podium.domain.boards import Board
from podium.domain.cohorts import Tier
from podium.domain.totals import LogPosition, Total, with_step
from podium.index.base import RankIndex
from podium.index.memory import MemoryRankIndex
from podium.usecases.tier_changes import TierChanges
from podium.webhooks.base import WebhookStore
from tests.distributed.stack import stack_store

TIERS = (Tier("gold", min_score=100), Tier("silver", min_score=50))


@pytest.fixture(params=["embedded", pytest.param("distributed", marks=pytest.mark.distributed)])
async def engines(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[WebhookStore, RankIndex]]:
    if request.param == "embedded":
        from podium.webhooks.sqlite import SqliteWebhookStore

        hooks = SqliteWebhookStore(tmp_path / "webhooks.db")
        await hooks.open()
        yield hooks, MemoryRankIndex()
        await hooks.close()
        return
    from podium.domain.buckets import SplitPolicy
    from podium.index.sharded import ShardedRedisRankIndex
    from podium.webhooks.cassandra import CassandraWebhookStore

    primary_url, _ = request.getfixturevalue("redis_pair")
    index = ShardedRedisRankIndex.from_urls([primary_url], policy=SplitPolicy.never())
    async with stack_store(request) as store:
        cassandra = CassandraWebhookStore(store)
        await cassandra.prepare()
        yield cassandra, index
    await index.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def totals(board: str, scores: list[int], *, user: str = "ada") -> list[Total]:
    """One user's totals as the feed carries them: version n, log offset 10 n, each total the sum so far."""
    out, total = [], 0
    for n, score in enumerate(scores, start=1):
        total += score
        out.append(Total(board, user, total, n, n, LogPosition(0, 10 * n), updated_at_us=10**15 + n))
    return out


async def recorded(hooks: WebhookStore, hook: str, board: str) -> list[dict[str, object]]:
    mine = [d for d in await hooks.deliveries(hook, 100) if d.subject.startswith(board + "/")]
    return sorted((orjson.loads(d.body) for d in mine), key=lambda body: body["version"])


@contextlib.asynccontextmanager
async def webhook(hooks: WebhookStore, events: tuple[str, ...]) -> AsyncIterator[str]:
    """A webhook of the test's own, deleted after (the stack's store is shared)."""
    name = unique("hook")
    await hooks.put_webhook(wh.Webhook(name, "http://127.0.0.1:9/x", events, "s" * 20, 1))
    try:
        yield name
    finally:
        await hooks.delete_webhook(name)


async def test_a_batch_read_again_before_or_after_its_apply_records_each_change_once(
    engines: tuple[WebhookStore, RankIndex],
) -> None:
    hooks, index = engines
    board = Board(unique("arena"), tiers=TIERS)
    tiers = TierChanges(hooks, index)
    async with webhook(hooks, (wh.TIER_CHANGED,)) as hook:
        batch = totals(board.name, [30, 30, 10, 50])  # 30, 60 silver, 70, 120 gold
        await tiers.record(board, batch)
        first = await recorded(hooks, hook, board.name)
        changed = [(b["previous_tier"], b["tier"], b["version"]) for b in first]
        assert changed == [(None, "silver", 2), ("silver", "gold", 4)]
        # Killed before the apply: read again, in other batches, the same changes under the same ids.
        await tiers.record(board, batch[:3])
        await tiers.record(board, [*reversed(batch), *batch])
        await index.apply(board, batch)
        # Killed after the apply: the index holds every total of the batch; nothing is new.
        assert await tiers.record(board, batch) == 0
        assert await recorded(hooks, hook, board.name) == first
        # The next batch is measured from what the index holds: a kept tier sends nothing.
        more = totals(board.name, [30, 30, 10, 50, 5, -100])  # 125 gold, then 25: none
        await tiers.record(board, more[4:])
        last = await recorded(hooks, hook, board.name)
        assert len(last) == 3
        assert (last[-1]["previous_tier"], last[-1]["tier"], last[-1]["score"], last[-1]["version"]) == (
            "gold",
            None,
            25,
            6,
        )


class CountingIndex(MemoryRankIndex):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def newest(self, board: Board, user_id: str) -> tuple[LogPosition, int] | None:
        self.reads += 1
        return await super().newest(board, user_id)


async def test_no_webhook_wanting_it_or_no_tiers_reads_nothing(engines: tuple[WebhookStore, RankIndex]) -> None:
    hooks, _ = engines
    index = CountingIndex()
    tiers = TierChanges(hooks, index)
    name = unique("arena")
    async with webhook(hooks, (wh.PERIOD_ENDED,)):
        wanting = [h for h in await hooks.webhooks() if h.wants(wh.TIER_CHANGED)]
        assert await tiers.record(Board(name), totals(name, [500])) == 0
        if not wanting:  # the stack's store is shared: another test's webhook may want it
            assert await tiers.record(Board(name, tiers=TIERS), totals(name, [500])) == 0
        assert await tiers.record(Board(name, tiers=(Tier("top", top_percent=10),)), totals(name, [500])) == 0
    assert index.reads == 0


async def test_a_reordered_feed_and_a_restart_tell_each_change_once(engines: tuple[WebhookStore, RankIndex]) -> None:
    """The db-worker at depth 3: a batch's write may land after the next one's, whose total
    then carries the user's totals still in flight as steps (each carrying its own), and the
    change feed brings the newer total before the older one. The rank-worker, killed and
    started again in between, reads them in other batches: each crossing is one delivery, and
    a step the index holds already (a version at or below its own) tells nothing."""
    hooks, index = engines
    board = Board(unique("arena"), tiers=TIERS)
    tiers = TierChanges(hooks, index)
    v1, v2, v3, v4, v5 = totals(board.name, [20, 20, 20, 20, 20])  # 20, 40, 60 silver, 80, 100 gold
    v2 = with_step(v1, v2, 100)
    v3 = with_step(v2, v3, 100)
    v4 = with_step(v3, v4, 100)  # steps 20, 40, 60
    v5 = with_step(v4, v5, 100)  # steps 20, 40, 60, 80
    async with webhook(hooks, (wh.TIER_CHANGED,)) as hook:
        for batch in ([v1, v2], [v4]):  # v3's write lands after v4's
            await tiers.record(board, batch)
            if batch != [v4]:  # killed after v4's record, before its apply
                await index.apply(board, batch)
        for batch in ([v4, v3], [v3], [v5]):  # read again from the last commit, then the stale v3
            await tiers.record(board, batch)
            await index.apply(board, batch)
        got = [(b["previous_tier"], b["tier"], b["version"]) for b in await recorded(hooks, hook, board.name)]
        assert got == [(None, "silver", 3), ("silver", "gold", 5)]
