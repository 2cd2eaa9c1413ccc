"""The deliveries use case (podium/usecases/deliveries.py) on the embedded stores, with a
receiver that fails on purpose: a failed try is scheduled again after the backoff, a delivery
never taken is given up after `retry_for_s`, a deleted webhook's pending delivery fails, two
senders sharing the store send a due delivery once, and a period with nobody in it sends
nothing. The watermark is told final: what makes a period final is tested through the API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest

import podium.domain.windows as w
from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.domain.webhooks import SIGNATURE_HEADER, Webhook, signed_by
from podium.store.sqlite import SqliteStore
from podium.usecases.board_settings import Boards
from podium.usecases.deliveries import Deliveries, DeliverySettings, now_us
from podium.webhooks.base import Delivery
from podium.webhooks.sqlite import SqliteWebhookStore

SECRET = "a-secret-of-16-chars-or-more"


class Final:
    async def stored_through(self, until_us: int) -> bool:
        return True

    async def close(self) -> None:
        return None


class Receiver:
    """Answers the statuses given, in turn (then 200); keeps what it got."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.got: list[tuple[bytes, Mapping[str, str]]] = []

    async def __call__(self, url: str, body: bytes, headers: Mapping[str, str], timeout_s: float) -> int:
        self.got.append((body, headers))
        return self.statuses.pop(0) if self.statuses else 200


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[SqliteStore, SqliteWebhookStore]]:
    store = SqliteStore(tmp_path / "store.db")
    await store.open()
    hooks = SqliteWebhookStore(tmp_path / "webhooks.db")
    await hooks.open()
    yield store, hooks
    await hooks.close()
    await store.close()


def deliveries(stores: tuple[SqliteStore, SqliteWebhookStore], post: Receiver, **settings: float) -> Deliveries:
    store, hooks = stores
    quick = DeliverySettings(allow=("127.0.0.1",), first_backoff_s=0.05, max_backoff_s=0.05, **settings)  # type: ignore[arg-type]
    return Deliveries(hooks, Boards(store), store, Final(), quick, post=post)


async def owed(hooks: SqliteWebhookStore, name: str = "h") -> Delivery:
    await hooks.put_webhook(Webhook(name, "http://127.0.0.1:9/x", ("period_ended",), SECRET, 1))
    d = Delivery(f"dlv_{name}", name, "period_ended", "arena/day/2026-12-06", '{"id": "dlv_h"}', now_us())
    assert await hooks.add_delivery(d)
    return d


async def test_a_failed_try_waits_its_backoff_and_is_sent_again_with_the_same_bytes(
    stores: tuple[SqliteStore, SqliteWebhookStore],
) -> None:
    receiver = Receiver(500, 503)
    sender = deliveries(stores, receiver)
    d = await owed(stores[1])
    assert await sender.send_due(now_us()) == 0
    failed = await stores[1].delivery(d.id)
    assert failed is not None and failed.state == "pending" and failed.attempts == 1 and "500" in failed.last_error
    assert failed.next_at_us > now_us() - 1000  # not due at once
    assert await sender.send_due(now_us()) == 0 and len(receiver.got) == 1  # still waiting out the backoff
    for _ in range(2):
        await asyncio.sleep(0.08)
        await sender.send_due(now_us())
    done = await stores[1].delivery(d.id)
    assert done is not None and done.state == "delivered" and done.attempts == 3 and done.owner == ""
    assert {body for body, _ in receiver.got} == {d.body.encode()}
    assert all(signed_by(SECRET, body, headers[SIGNATURE_HEADER]) for body, headers in receiver.got)


async def test_a_delivery_never_taken_is_given_up_after_retry_for_s(
    stores: tuple[SqliteStore, SqliteWebhookStore],
) -> None:
    sender = deliveries(stores, Receiver(*[500] * 100), retry_for_s=0.2)
    d = await owed(stores[1])
    deadline = time.monotonic() + 5
    while (stored := await stores[1].delivery(d.id)) is not None and stored.state == "pending":
        assert time.monotonic() < deadline
        await sender.send_due(now_us())
        await asyncio.sleep(0.02)
    assert stored is not None and stored.state == "failed" and stored.attempts >= 2


async def test_a_deleted_webhooks_delivery_fails_unsent(stores: tuple[SqliteStore, SqliteWebhookStore]) -> None:
    receiver = Receiver()
    d = await owed(stores[1])
    await stores[1].delete_webhook("h")
    await deliveries(stores, receiver).send_due(now_us())
    stored = await stores[1].delivery(d.id)
    assert stored is not None and stored.state == "failed" and receiver.got == []


async def test_two_senders_send_a_due_delivery_once(stores: tuple[SqliteStore, SqliteWebhookStore]) -> None:
    receiver = Receiver()
    await owed(stores[1])
    one, two = deliveries(stores, receiver), deliveries(stores, receiver)
    sent = await asyncio.gather(one.send_due(now_us()), two.send_due(now_us()))
    assert sorted(sent) == [0, 1] and len(receiver.got) == 1


async def test_an_ended_period_is_recorded_once_by_two_processes_and_an_empty_one_not_at_all(
    stores: tuple[SqliteStore, SqliteWebhookStore],
) -> None:
    store, hooks = stores
    await store.create_board(Board("arena", windows=("all", "cron:* * * * * *")))
    await hooks.put_webhook(Webhook("h", "http://127.0.0.1:9/x", ("period_ended",), SECRET, 1))
    at = now_us() - 3_000_000  # a second that ended 3 s ago: one user scored in it
    window = w.parse_window("cron:* * * * * *")
    scored = w.period_at(window, "UTC", at)
    stored = w.period_board("arena", window, scored.id)
    await store.write_totals([Total(stored, "ada", 42, 1, at, LogPosition(0, 1))], [])
    one, two = deliveries(stores, Receiver()), deliveries(stores, Receiver())
    added = await asyncio.gather(
        one.announce(await hooks.webhooks(), now_us()), two.announce(await hooks.webhooks(), now_us())
    )
    assert sum(added) == 1  # one delivery: that second's; the empty seconds around it send nothing
    [recorded] = await hooks.pending()
    assert recorded.subject == f"arena/cron:* * * * * */{scored.id}"


def test_a_tournaments_ended_periods_are_its_active_parts_ranked_where_it_ranks() -> None:
    from podium.domain.tournaments import Tournament
    from podium.domain.webhooks import TOURNAMENT_ENDED
    from podium.usecases.deliveries import ended_of

    hook = Webhook("h", "http://127.0.0.1:9/x", (TOURNAMENT_ENDED,), SECRET, 1)
    at = us = 1_796_000_000_000_000  # a whole second
    # One-shot: started 10 s before, 5 s long; ranked on the board itself (its all-time window).
    once = Board("cup", tournament=Tournament(start_us=at - 10_000_000, duration_s=5))
    [ended] = ended_of(once, at, [hook])
    assert (ended.event, ended.window, ended.period.id) == (TOURNAMENT_ENDED, "all", "once")
    assert (ended.period.start_us, ended.period.end_us) == (at - 10_000_000, at - 5_000_000)
    assert ended.stored.name == "cup"
    assert ended_of(once, at - 6_000_000, [hook]) == []  # still running then
    # Reset every 2 s, each period active 1 s: its ends are mid-cycle, ranked in the cron window's period.
    spec = "cron:*/2 * * * * *"
    league = Board(
        "league",
        windows=("all", spec),
        tournament=Tournament(start_us=at - 60_000_000, duration_s=1, reset="*/2 * * * * *"),
    )
    found = ended_of(league, us, [hook])
    assert found and all(e.window == spec and e.period.end_us == e.period.start_us + 1_000_000 for e in found)
    assert all(e.stored.name == w.period_board("league", w.parse_window(spec), e.period.id) for e in found)
    assert max(e.period.end_us or 0 for e in found) <= us
