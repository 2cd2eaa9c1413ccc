"""The whole hostile suite against one service with auth, rules and rate limits on, in each
profile: forged scores, replays, wrong and revoked keys, scopes too low, oversize and deeply
nested bodies, ids past their length, a flood. Every request is refused (or, a replay,
accepted and applied once), and afterwards the boards are exactly as before: the store's
totals and everything reads show."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from podium.api.app import create_app
from podium.bootstrap import managed_keys
from podium.domain.keys import Scope
from podium.settings import Settings
from tests.conftest import BoardNames

RULES = {"min_score": 0, "max_score": 1000, "max_change": 100, "max_submissions_per_minute": 3}
USERS = ("ada", "bob", "cy")
# Each key has a budget of its own; anonymous and read-key requests share the address's.
LIMITS = {"rate_key_per_s": 5.0, "rate_key_burst": 200, "rate_address_per_s": 1.0, "rate_address_burst": 120}
NAMES = {"admin": Scope.ADMIN, "writer": Scope.WRITE, "reader": Scope.READ, "flooder": Scope.WRITE, "gone": Scope.WRITE}


@dataclasses.dataclass
class Service:
    client: TestClient
    settings: Settings
    keys: dict[str, dict[str, str]]  # name -> its Authorization header
    gone_id: str


@pytest.fixture
def hostile(settings: Settings, tmp_path: Path) -> Iterator[Service]:
    """The profile's settings (tests run with auth and limits off) with both turned on."""
    secured = dataclasses.replace(settings, auth="on", dev=False, key_cache_s=0.2, **LIMITS)

    async def make() -> tuple[dict[str, str], str]:
        async with managed_keys(secured) as keys:
            made = {name: await keys.create(scope, f"hostile-{name}") for name, scope in NAMES.items()}
        return {name: key for name, (_, key) in made.items()}, made["gone"][0].key_id

    made, gone_id = asyncio.run(make())
    with TestClient(create_app(secured)) as client:
        keys = {name: {"authorization": f"Bearer {key}"} for name, key in made.items()}
        yield Service(client, secured, keys, gone_id)


def seed(svc: Service, b: BoardNames) -> None:
    """Two boards (rules on a key-only one, a public one), each user's submissions a minute
    spent on the ruled board, and a friend list."""
    c, admin, writer = svc.client, svc.keys["admin"], svc.keys["writer"]
    assert c.put(f"/v1/boards/{b.ruled}", json={"operator": "best", "rules": RULES}, headers=admin).status_code == 201
    assert c.put(f"/v1/boards/{b.open}", json={"reads": "public"}, headers=admin).status_code == 201
    for user_index, user in enumerate(USERS):
        for attempt in range(RULES["max_submissions_per_minute"]):
            score = 100 * user_index + 10 * attempt
            body = {"user_id": user, "score": score, "key": f"{user}-run-{attempt}"}
            answer = c.post(f"/v1/boards/{b.ruled}/scores?wait=true", json=body, headers=writer)
            assert answer.status_code == 200, answer.text
        batch = {"scores": [{"user_id": user, "score": 7 * (user_index + 1), "key": f"{user}-open"}]}
        answer = c.post(f"/v1/boards/{b.open}/scores/batch?wait=true", json=batch, headers=writer)
        assert answer.status_code == 200, answer.text
    assert c.put("/v1/users/ada/friends", json={"friends": ["bob"]}, headers=writer).status_code == 200


def snapshot(svc: Service, b: BoardNames) -> tuple[Any, ...]:
    """Every read of both boards and the store's totals of them."""
    c, admin = svc.client, svc.keys["admin"]
    shown = [c.get(f"/v1/boards/{board}", headers=admin).json() for board in (b.ruled, b.open)]
    for board in (b.ruled, b.open):
        shown.append(c.get(f"/v1/boards/{board}/top?limit=1000", headers=admin).json())
        shown += [c.get(f"/v1/boards/{board}/users/{u}", headers=admin).json() for u in USERS]
    shown.append(c.get(f"/v1/boards/{b.ruled}/users/ada/friends", headers=admin).json())
    shown.append(c.get("/v1/users/ada/friends", headers=admin).json())
    return shown, [stored(svc, board) for board in (b.ruled, b.open)]


# A replay is processed (its total gets a new version carrying the replay's log position, so
# that a reader waiting for it sees it done) but changes nothing a player sees: these fields.
SHOWN_FIELDS = ("total", "reached_at_us", "removed", "subscore", "best_total", "hidden", "display_name", "metadata")


def stored(svc: Service, name: str) -> dict[str, tuple[Any, ...]]:
    """The store's totals of the board's users (the source of truth, past every cache)."""
    services = svc.client.app.state.services  # type: ignore[attr-defined]

    async def read() -> dict[str, tuple[Any, ...]]:
        board = await services.boards.get(name)
        found = await services.store_totals(board, [*USERS, "dee", "eve", *(f"new{i}" for i in range(5))])
        return {user: tuple(getattr(t, f) for f in SHOWN_FIELDS) for user, t in found.items()}

    result: dict[str, tuple[Any, ...]] = svc.client.portal.call(read)  # type: ignore[union-attr]
    return result


def refused(answer: httpx.Response, status: int, code: str | None = None) -> None:
    assert answer.status_code == status, (answer.request.method, answer.request.url, answer.text)
    error = answer.json()["error"]
    assert error["message"]
    if code is not None:
        assert error["code"] == code, error


def test_after_the_whole_hostile_suite_the_boards_are_exactly_as_before(hostile: Service, b: BoardNames) -> None:
    svc, c = hostile, hostile.client
    seed(svc, b)
    before = snapshot(svc, b)
    reader, writer = svc.keys["reader"], svc.keys["writer"]
    score_path, batch_path = f"/v1/boards/{b.ruled}/scores", f"/v1/boards/{b.ruled}/scores/batch"
    good = {"user_id": "dee", "score": 50}

    # Leaked or guessed keys: none, made up, malformed, revoked.
    asyncio.run(revoke(svc.settings, svc.gone_id))
    for headers in ({}, {"authorization": "Bearer pk_0123456789abcdef_" + "x" * 43}, {"authorization": "Basic YTpi"}):
        refused(c.post(score_path, json=good, headers=headers), 401, "unauthorized")
    refused(c.post(score_path, json=good, headers=svc.keys["gone"]), 401, "unauthorized")
    refused(c.get(f"/v1/boards/{b.ruled}/top"), 401)  # a key-only board is not scraped without a key

    # Scopes too low: a client's read key cannot write, a game server's write key cannot administer.
    refused(c.post(score_path, json=good, headers=reader), 403, "forbidden")
    refused(c.put("/v1/users/ada/friends", json={"friends": []}, headers=reader), 403)
    refused(c.delete(f"/v1/boards/{b.ruled}/users/ada", headers=reader), 403)
    refused(c.patch(f"/v1/boards/{b.ruled}", json={"rules": {}}, headers=writer), 403)
    refused(c.delete(f"/v1/boards/{b.open}", headers=writer), 403)
    refused(c.post(f"/v1/boards/{b.ruled}/users/ada/hide", headers=writer), 403)
    refused(c.post("/v1/admin/rebuild", json={}, headers=writer), 403)

    # Forged scores: past the bounds, a jump too far, one bad item at the end of a batch, a new try past the minute's.
    for body, rule in [
        ({"user_id": "dee", "score": 1001}, "max_score"),
        ({"user_id": "dee", "score": -1}, "min_score"),
        ({"user_id": "ada", "score": 999}, "max_change"),  # ada's best is 20
        ({"user_id": "ada", "score": 25}, "max_submissions_per_minute"),
    ]:
        answer = c.post(score_path, json=body, headers=writer)
        refused(answer, 422, "score_rule")
        assert answer.json()["error"]["rule"] == rule
    batch = {"scores": [{"user_id": f"new{i}", "score": 10} for i in range(5)] + [{"user_id": "eve", "score": 5000}]}
    answer = c.post(batch_path, json=batch, headers=writer)
    refused(answer, 422, "score_rule")
    assert answer.json()["error"]["index"] == 5

    # Replays of applied submissions: accepted, applied once (the wait makes sure they were seen).
    for user_index, user in enumerate(USERS):
        body = {"user_id": user, "score": 100 * user_index, "key": f"{user}-run-0"}  # as sent in seed()
        assert c.post(f"{score_path}?wait=true", json=body, headers=writer).status_code == 200
    replay = {"scores": [{"user_id": "ada", "score": 7, "key": "ada-open"}]}
    assert c.post(f"/v1/boards/{b.open}/scores/batch?wait=true", json=replay, headers=writer).status_code == 200

    # Bodies and ids built to hurt: oversize (refused by its Content-Length), nested without end, past the limits.
    huge = b"x" * (svc.settings.max_body_bytes + 1)
    refused(c.post(score_path, content=huge, headers={**writer, "content-type": "application/json"}), 413)
    refused(c.post(score_path, content=b"[" * 100_000, headers=writer), 400, "invalid_json")
    deep: dict[str, Any] = {}
    for _ in range(50):
        deep = {"inner": deep}
    refused(c.post(score_path, json={**good, "metadata": deep}, headers=writer), 400)
    refused(c.post(score_path, json={"user_id": "u" * 129, "score": 1}, headers=writer), 400)
    refused(c.get(f"/v1/boards/{'b' * 129}/top", headers=reader), 400)
    too_many = {"scores": [good] * (svc.settings.max_batch + 1)}
    refused(c.post(batch_path, json=too_many, headers=writer), 400, "batch_too_large")
    refused(c.post(score_path, content=b'{"user_id": "dee", "score": 1', headers=writer), 400, "invalid_json")

    # A flood: one key's burst, then an address's; each ends in 429 with Retry-After.
    flooder = svc.keys["flooder"]
    answers = [c.post(score_path, json={"user_id": "dee", "score": 5000}, headers=flooder) for _ in range(260)]
    assert {a.status_code for a in answers} == {422, 429}
    limited = next(a for a in answers if a.status_code == 429)
    assert limited.json()["error"]["code"] == "rate_limited" and int(limited.headers["retry-after"]) >= 1
    answers = [c.get(f"/v1/boards/{b.open}/top") for _ in range(200)]
    assert 429 in {a.status_code for a in answers}

    assert snapshot(svc, b) == before


async def revoke(settings: Settings, key_id: str) -> None:
    async with managed_keys(settings) as keys:
        await keys.revoke(key_id)
