"""tier_changed over HTTP, in both profiles (issue 22): a webhook that wants it receives, on a
local HTTP server, one signed delivery for each time a user's own total crosses a tier's
score cut-off (from none, and up), in each window of the board, with the user's cohort; a
score that leaves the tier as it was sends nothing, and so does a board with a tier by place."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from starlette.testclient import TestClient

from podium.api.app import create_app
from podium.api.contract.webhooks import TierChanged
from podium.settings import Settings
from podium.usecases.tier_changes import HOOKS_EVERY_S
from tests.conftest import BoardNames
from tests.integration.test_api import submit
from tests.integration.test_webhooks_api import SECRET, quick
from tests.integration.webhook_receiver import Arrival, Receiver, verified

TIERS = [{"name": "gold", "min_score": 100}, {"name": "silver", "min_score": 50}]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(quick(settings))) as test_client:
        yield test_client


@contextlib.contextmanager
def hooked(client: TestClient, name: str, url: str) -> Iterator[None]:
    """A webhook that wants tier_changed, deleted after (the stack's store is shared)."""
    answer = client.put(f"/v1/webhooks/{name}", json={"url": url, "events": ["tier_changed"], "secret": SECRET})
    assert answer.status_code == 201, answer.text
    time.sleep(HOOKS_EVERY_S + 0.2)  # the rank-worker reads the list of webhooks again within this
    try:
        yield
    finally:
        client.delete(f"/v1/webhooks/{name}")


def arrived(receiver: Receiver, board: str, count: int, timeout_s: float = 30.0) -> list[Arrival]:
    """The board's arrivals, once there are `count` distinct ids of it (or the time is up)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        mine = [a for a in receiver.arrivals if a.body["board"] == board]
        if len({a.delivery for a in mine}) >= count:
            return mine
        receiver.wait_for(len({a.delivery for a in receiver.arrivals}) + 1, 0.3)
    return [a for a in receiver.arrivals if a.body["board"] == board]


def told(arrival: Arrival) -> dict[str, Any]:
    body: dict[str, Any] = arrival.body
    msgspec.convert(body, TierChanged)  # the body is what the contract declares
    return {k: body[k] for k in ("user_id", "previous_tier", "tier", "score", "cohort", "window")}


def test_a_crossed_cut_off_is_delivered_signed_once_and_a_kept_tier_sends_nothing(
    client: TestClient, b: BoardNames
) -> None:
    with Receiver() as receiver, hooked(client, b.hook, receiver.url):
        made = client.put(f"/v1/boards/{b.league}", json={"cohort_size": 2, "tiers": TIERS})
        assert made.status_code == 201, made.text
        submit(client, b.league, "ada", 30)  # no tier: nothing
        submit(client, b.league, "ada", 30)  # 60: silver
        submit(client, b.league, "ada", 10)  # 70: still silver, nothing
        submit(client, b.league, "ada", 50)  # 120: gold
        submit(client, b.league, "bob", 200)  # gold at once
        submit(client, b.league, "cy", 5)  # nothing
        arrivals = arrived(receiver, b.league, 3)
        by_id = verified(arrivals, SECRET)  # every signature checked, a repeat the same bytes
        got = sorted((told(a) for a in by_id.values()), key=lambda t: (t["user_id"], t["score"]))
        assert got == [
            {"user_id": "ada", "previous_tier": None, "tier": "silver", "score": 60, "cohort": "1", "window": "all"},
            {"user_id": "ada", "previous_tier": "silver", "tier": "gold", "score": 120, "cohort": "1", "window": "all"},
            {"user_id": "bob", "previous_tier": None, "tier": "gold", "score": 200, "cohort": "1", "window": "all"},
        ]
        for a in by_id.values():
            assert a.body["id"] == a.delivery and a.body["event"] == "tier_changed"
        submit(client, b.league, "bob", 1)  # still gold
        submit(client, b.league, "ada", 1)  # still gold
        time.sleep(1.5)  # a few of the sender's checks (0.2 s apart)
        assert {a.delivery for a in receiver.arrivals if a.body["board"] == b.league} == set(by_id)
        shown = client.get(f"/v1/webhooks/{b.hook}").json()["deliveries"]
        subjects = {d["subject"] for d in shown if d["event"] == "tier_changed" and d["subject"].startswith(b.league)}
        assert subjects == {f"{b.league}/all/ada/2", f"{b.league}/all/ada/4", f"{b.league}/all/bob/1"}


def test_each_window_tells_its_own_change_and_a_tier_by_place_sends_none(client: TestClient, b: BoardNames) -> None:
    with Receiver() as receiver, hooked(client, b.hook, receiver.url):
        assert client.put(f"/v1/boards/{b.season}", json={"windows": ["all", "day"], "tiers": TIERS}).status_code == 201
        placed = [{"name": "top", "top_percent": 50}, *TIERS]
        assert client.put(f"/v1/boards/{b.placed}", json={"tiers": placed}).status_code == 201
        submit(client, b.placed, "ada", 500)
        submit(client, b.season, "ada", 120)
        arrivals = verified(arrived(receiver, b.season, 2), SECRET)
        windows = sorted((a.body["window"], a.body["tier"], a.body["period"] is None) for a in arrivals.values())
        assert windows == [("all", "gold", True), ("day", "gold", False)]
        time.sleep(1.0)
        assert not [a for a in receiver.arrivals if a.body["board"] == b.placed]
