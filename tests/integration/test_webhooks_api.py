"""Results delivered (issue 22), over HTTP in both profiles: webhooks set, shown and deleted
by an operator, a URL outside the allow-list refused with 422; when a period of a window with
a 2-second cron period ends, its final standings reach a receiver on 127.0.0.1, signed, once
by id, equal to a plain reference; the full results read at /results."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

import podium.domain.windows as w
from podium.api.app import create_app
from podium.settings import Settings
from tests.conftest import BoardNames
from tests.integration.webhook_receiver import Receiver, verified
from tests.reference import ReferenceBoard

WINDOW = "cron:*/2 * * * * *"  # a period every 2 seconds
SECRET = "a-secret-of-16-chars-or-more"
TOP_N = 5


def quick(settings: Settings) -> Settings:
    """Loopback allowed; checks, grace, leases and backoff short enough for a test."""
    return dataclasses.replace(
        settings,
        webhook_allow="127.0.0.1",
        webhook_top_n=TOP_N,
        webhook_check_s=0.2,
        results_grace_s=0.5,
        webhook_timeout_s=2.0,
        webhook_lease_s=3.0,
        webhook_first_backoff_s=0.2,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(quick(settings))) as test_client:
        yield test_client


def hook_body(url: str, events: list[str] | None = None) -> dict[str, Any]:
    return {"url": url, "events": events or ["period_ended"], "secret": SECRET}


def test_an_operator_sets_shows_replaces_and_deletes_a_webhook(client: TestClient, b: BoardNames) -> None:
    path = f"/v1/webhooks/{b.hook}"
    made = client.put(path, json=hook_body("http://127.0.0.1:9/a"))
    assert made.status_code == 201, made.text
    shown = made.json()
    assert shown["name"] == b.hook and shown["url"] == "http://127.0.0.1:9/a" and shown["events"] == ["period_ended"]
    assert "secret" not in shown and SECRET not in made.text
    replaced = client.put(path, json=hook_body("http://127.0.0.1:9/b", ["tournament_ended", "tier_changed"]))
    assert replaced.status_code == 200 and replaced.json()["created_at_us"] == shown["created_at_us"]
    got = client.get(path).json()
    assert got["url"] == "http://127.0.0.1:9/b" and got["events"] == ["tournament_ended", "tier_changed"]
    assert got["deliveries"] == []
    assert b.hook in [h["name"] for h in client.get("/v1/webhooks").json()["webhooks"]]
    assert client.delete(path).status_code == 204
    gone = client.get(path)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "webhook_not_found"
    assert client.delete(path).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (hook_body("https://evil.example.com/podium"), 422, "url_not_allowed"),
        (hook_body("http://127.0.0.1.evil.example.com/podium"), 422, "url_not_allowed"),
        (hook_body("ftp://127.0.0.1/podium"), 400, "invalid_url"),
        (hook_body("http://127.0.0.1:9/a", ["period_started"]), 400, "invalid_body"),
        ({**hook_body("http://127.0.0.1:9/a"), "secret": "short"}, 400, "invalid_body"),
        ({"url": "http://127.0.0.1:9/a", "events": ["period_ended"]}, 400, "invalid_body"),
    ],
)
def test_a_refused_webhook_changes_nothing(
    client: TestClient, b: BoardNames, body: dict[str, Any], status: int, code: str
) -> None:
    answer = client.put(f"/v1/webhooks/{b.hook}", json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] in (code, "invalid_events", "invalid_secret")
    assert client.get(f"/v1/webhooks/{b.hook}").status_code == 404


def in_a_fresh_period(window: w.Window, min_left_s: float) -> w.Period:
    """Wait until a period has at least `min_left_s` left; that period."""
    while True:
        now = time.time_ns() // 1000
        period = w.period_at(window, "UTC", now)
        assert period.end_us is not None
        if period.end_us - now >= min_left_s * 1_000_000:
            return period
        time.sleep((period.end_us - now) / 1_000_000 + 0.02)


def scored_in_one_period(client: TestClient, board: str, scores: list[tuple[str, int]]) -> w.Period:
    """Submit `scores` in one batch (wait=true) inside one period; the period."""
    window = w.parse_window(WINDOW)
    for _ in range(5):
        period = in_a_fresh_period(window, 1.5)
        batch = {"scores": [{"user_id": u, "score": s} for u, s in scores]}
        answer = client.post(f"/v1/boards/{board}/scores/batch?wait=true", json=batch)
        assert answer.status_code == 200, answer.text
        periods = {r["windows"][WINDOW]["period"] for r in answer.json()["results"]}
        if periods == {period.id}:
            return period
        client.delete(f"/v1/boards/{board}")  # straddled an end: start again on a fresh board
        client.put(f"/v1/boards/{board}", json={"windows": ["all", WINDOW], "tie": "competition"})
    raise AssertionError("no period took the whole batch")


def test_a_finished_period_is_delivered_signed_once_and_equals_the_reference(client: TestClient, b: BoardNames) -> None:
    scores = [("ada", 30), ("bob", 50), ("cy", 30), ("dee", 10), ("eve", 70), ("fay", 50), ("gus", 5)]
    reference = ReferenceBoard(operator="incr", tie="competition")
    for user, score in scores:
        reference.submit(user, score)
    with Receiver() as receiver:
        assert client.put(f"/v1/webhooks/{b.hook}", json=hook_body(receiver.url)).status_code == 201
        made = client.put(f"/v1/boards/{b.arena}", json={"windows": ["all", WINDOW], "tie": "competition"})
        assert made.status_code == 201, made.text
        period = scored_in_one_period(client, b.arena, scores)
        early = client.get(f"/v1/boards/{b.arena}/results", params={"window": WINDOW, "period": period.id})
        if early.status_code == 409:  # still running when asked
            assert early.json()["error"]["code"] == "period_not_ended"

        def mine() -> list[Any]:
            return [a for a in receiver.arrivals if a.body["board"] == b.arena and a.body["period"] == period.id]

        deadline = time.monotonic() + 30
        while not mine() and time.monotonic() < deadline:
            receiver.wait_for(len({a.delivery for a in receiver.arrivals}) + 1, 0.5)
        arrivals = mine()
        if not arrivals:  # say why: not final yet (the watermark), or recorded and not sent
            why = client.get(f"/v1/boards/{b.arena}/results", params={"window": WINDOW, "period": period.id}).text
            raise AssertionError(
                f"no delivery of the period arrived: {why} {client.get(f'/v1/webhooks/{b.hook}').text}"
            )
        [arrival] = verified(arrivals, SECRET).values()  # one delivery id, every repeat the same bytes
        body = arrival.body
        assert body["event"] == "period_ended" and body["window"] == WINDOW
        assert (body["start_us"], body["end_us"]) == (period.start_us, period.end_us)
        assert body["count"] == len(reference.totals)
        top = [{k: e[k] for k in ("rank", "user_id", "score")} for e in body["top"]]
        assert top == reference.ranking()[:TOP_N]

        full = client.get(body["results"])
        assert full.status_code == 200, full.text
        results = full.json()
        assert results["final"] is True and results["count"] == len(reference.totals)
        entries = [{k: e[k] for k in ("rank", "user_id", "score")} for e in results["entries"]]
        assert entries == reference.ranking()
        paged = client.get(body["results"] + "&offset=2&limit=3").json()["entries"]
        assert [e["user_id"] for e in paged] == [e["user_id"] for e in reference.ranking()[2:5]]

        shown = client.get(f"/v1/webhooks/{b.hook}").json()["deliveries"]
        [delivered] = [d for d in shown if d["id"] == arrival.delivery]
        assert delivered["state"] == "delivered" and delivered["attempts"] >= 1
        assert delivered["subject"] == f"{b.arena}/{WINDOW}/{period.id}"
        client.delete(f"/v1/webhooks/{b.hook}")


def test_results_refuse_a_running_period_and_the_all_time_window(client: TestClient, b: BoardNames) -> None:
    assert client.put(f"/v1/boards/{b.arena}", json={"windows": ["all", "day"]}).status_code == 201
    today = w.period_at(w.parse_window("day"), "UTC", time.time_ns() // 1000).id
    running = client.get(f"/v1/boards/{b.arena}/results", params={"window": "day", "period": today})
    assert running.status_code == 409 and running.json()["error"]["code"] == "period_not_ended"
    forever = client.get(f"/v1/boards/{b.arena}/results", params={"window": "all"})
    assert forever.status_code == 400 and forever.json()["error"]["code"] == "invalid_period"
    yesterday = client.get(f"/v1/boards/{b.arena}/results", params={"window": "day"})
    assert yesterday.status_code == 200, yesterday.text
    assert yesterday.json()["count"] == 0 and yesterday.json()["final"] is True
    assert client.get(f"/v1/boards/{b.nope}/results").status_code == 404
