"""The webhook store port's contract, for every adapter: SQLite (embedded) and Cassandra
(distributed, on the local stack, its delivery writes lightweight transactions). Names and
ids are each test's own: the Cassandra keyspace is shared."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from podium.domain.webhooks import Webhook
from podium.webhooks.base import Delivery, WebhookStore
from tests.distributed.stack import stack_store


@pytest.fixture(params=["sqlite", pytest.param("cassandra", id="distributed", marks=pytest.mark.distributed)])
async def hooks(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[WebhookStore]:
    if request.param == "sqlite":
        from podium.webhooks.sqlite import SqliteWebhookStore

        sqlite = SqliteWebhookStore(tmp_path / "webhooks.db")
        await sqlite.open()
        yield sqlite
        await sqlite.close()
        return
    from podium.webhooks.cassandra import CassandraWebhookStore

    async with stack_store(request) as store:
        cassandra = CassandraWebhookStore(store)
        await cassandra.prepare()
        yield cassandra


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def delivery(webhook: str, **changes: object) -> Delivery:
    d = Delivery(unique("dlv"), webhook, "period_ended", "arena/day/2026-12-07", '{"top": []}', 1_000, next_at_us=1_000)
    return d.but(**changes)


async def test_a_webhook_is_put_found_listed_replaced_and_deleted(hooks: WebhookStore) -> None:
    name = unique("hook")
    hook = Webhook(name, "https://hooks.example.com/a", ("period_ended", "tier_changed"), "s" * 20, 5)
    assert await hooks.webhook(name) is None
    await hooks.put_webhook(hook)
    assert await hooks.webhook(name) == hook
    assert hook in await hooks.webhooks()
    moved = Webhook(name, "https://hooks.example.com/b", ("tournament_ended",), "t" * 20, 5)
    await hooks.put_webhook(moved)
    assert await hooks.webhook(name) == moved
    assert await hooks.delete_webhook(name)
    assert await hooks.webhook(name) is None
    assert not await hooks.delete_webhook(name)


async def test_a_delivery_is_recorded_once_whoever_adds_it(hooks: WebhookStore) -> None:
    first = delivery(unique("hook"))
    second = first.but(body='{"top": ["another process"]}')
    won = await asyncio.gather(hooks.add_delivery(first), hooks.add_delivery(second))
    assert sorted(won) == [False, True]
    stored = await hooks.delivery(first.id)
    assert stored in (first, second)
    assert stored is not None and stored.id in {d.id for d in await hooks.pending()}


async def test_one_of_two_senders_claims_a_delivery_and_the_stale_view_is_refused(hooks: WebhookStore) -> None:
    seen = delivery(unique("hook"))
    await hooks.add_delivery(seen)
    claims = [seen.but(owner=f"api-{i}", lease_until_us=9_000) for i in (1, 2)]
    won = await asyncio.gather(*(hooks.save_delivery(c, seen) for c in claims))
    assert sorted(won) == [False, True]
    holder = claims[won.index(True)]
    assert await hooks.delivery(seen.id) == holder
    done = holder.but(state="delivered", owner="", lease_until_us=0, attempts=1, delivered_at_us=8_000)
    assert not await hooks.save_delivery(done, seen)  # from before the claim: refused
    assert await hooks.save_delivery(done, holder)
    assert await hooks.delivery(seen.id) == done
    assert seen.id not in {d.id for d in await hooks.pending()}


async def test_a_dead_senders_delivery_is_due_again_once_its_lease_ran_out(hooks: WebhookStore) -> None:
    seen = delivery(unique("hook"))
    await hooks.add_delivery(seen)
    held = seen.but(owner="api-dead", lease_until_us=5_000)
    assert await hooks.save_delivery(held, seen)
    [stored] = [d for d in await hooks.pending() if d.id == seen.id]
    assert not stored.due(4_999) and stored.due(5_000)
    taken = stored.but(owner="api-2", lease_until_us=50_000)
    assert await hooks.save_delivery(taken, stored)
    assert (await hooks.delivery(seen.id)) == taken


async def test_a_webhooks_deliveries_newest_first(hooks: WebhookStore) -> None:
    name = unique("hook")
    made = [delivery(name, created_at_us=at) for at in (3_000, 1_000, 2_000)]
    for d in made:
        await hooks.add_delivery(d)
    await hooks.add_delivery(delivery(unique("other")))
    shown = await hooks.deliveries(name, 2)
    assert [d.created_at_us for d in shown] == [3_000, 2_000]
