"""Rate limits per key and per client address: 429 with Retry-After once over, counted in
a metric, allowed again after the wait (embedded: the in-memory limiter)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from podium.api.app import create_app
from podium.bootstrap import managed_keys
from podium.domain.keys import Scope
from podium.errors import BackendUnavailable
from podium.settings import Settings

NAMED = {"setup": Scope.ADMIN, "ann": Scope.WRITE, "bob": Scope.ADMIN, "player-app": Scope.READ}


async def make_keys(settings: Settings) -> dict[str, str]:
    async with managed_keys(settings) as keys:
        made = {name: await keys.create(scope, name) for name, scope in NAMED.items()}
    return {name: key for name, (_, key) in made.items()}


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, dict[str, str]]:
    return {name: bearer(key) for name, key in asyncio.run(make_keys(settings_of(tmp_path))).items()}


def settings_of(tmp_path: Path) -> Settings:
    return Settings(
        data=tmp_path / "data", rate_key_per_s=2, rate_key_burst=2, rate_address_per_s=2, rate_address_burst=2
    )


@pytest.fixture
def limited(tmp_path: Path, keys: dict[str, dict[str, str]]) -> Iterator[TestClient]:
    """Two requests at once, then one every half second, per key and per address; a public
    board `arena`, made with a key of its own (not counted against the tests' keys)."""
    with TestClient(create_app(settings_of(tmp_path))) as client:
        assert client.put("/v1/boards/arena", json={"reads": "public"}, headers=keys["setup"]).status_code == 201
        yield client


def limited_count(limit: str) -> float:
    return REGISTRY.get_sample_value("podium_rate_limited_total", {"limit": limit}) or 0.0


def assert_limited(answer: httpx.Response, limit: str) -> float:
    assert answer.status_code == 429, answer.text
    assert answer.json()["error"]["code"] == "rate_limited"
    assert limit in answer.json()["error"]["message"]
    retry_after = answer.headers["retry-after"]
    assert retry_after.isdigit() and int(retry_after) >= 1
    return float(retry_after)


def test_an_address_over_its_limit_waits_and_is_allowed_again(limited: TestClient) -> None:
    counted = limited_count("address")
    assert [limited.get("/v1/boards").status_code for _ in range(2)] == [200, 200]
    assert assert_limited(limited.get("/v1/boards"), "address") == 1
    assert limited_count("address") == counted + 1
    assert limited.get("/healthz").status_code == 200  # health checks are never limited
    assert limited.get("/metrics").status_code == 200
    time.sleep(0.55)
    assert limited.get("/v1/boards").status_code == 200
    assert_limited(limited.get("/v1/boards"), "address")


def test_a_write_key_is_limited_on_its_own_not_by_address(limited: TestClient, keys: dict[str, dict[str, str]]) -> None:
    counted = limited_count("key")
    ann = keys["ann"]
    assert [limited.get("/v1/boards", headers=ann).status_code for _ in range(2)] == [200, 200]
    assert_limited(limited.get("/v1/boards", headers=ann), "key")
    assert limited_count("key") == counted + 1
    bob = keys["bob"]
    assert limited.get("/v1/boards", headers=bob).status_code == 200  # another key, its own allowance
    # The keys' requests did not spend the address's allowance (a game server is one address).
    assert [limited.get("/v1/boards").status_code for _ in range(2)] == [200, 200]
    time.sleep(0.55)
    assert limited.get("/v1/boards", headers=ann).status_code == 200


def test_a_read_key_is_limited_by_its_address_too(limited: TestClient, keys: dict[str, dict[str, str]]) -> None:
    reader = keys["player-app"]
    assert limited.get("/v1/boards", headers=reader).status_code == 200
    assert limited.get("/v1/boards").status_code == 200  # the same address, no key
    assert_limited(limited.get("/v1/boards", headers=reader), "address")


def test_a_limited_request_is_refused_before_its_body_is_read(limited: TestClient) -> None:
    read = []

    def body() -> Iterator[bytes]:
        read.append(True)
        yield b'{"user_id": "ann", "score": 1}'

    assert [limited.get("/v1/boards").status_code for _ in range(2)] == [200, 200]
    assert_limited(limited.post("/v1/boards/arena/scores", content=body()), "address")
    assert read == []


def test_a_live_connection_over_the_limit_is_closed_before_the_handshake(limited: TestClient) -> None:
    assert [limited.get("/v1/boards").status_code for _ in range(2)] == [200, 200]
    counted = limited_count("address")
    with pytest.raises(WebSocketDisconnect) as closed, limited.websocket_connect("/v1/boards/arena/live"):
        pass
    assert closed.value.code == 1008
    assert limited_count("address") == counted + 1


def test_requests_are_let_through_when_the_limits_cannot_be_counted(
    limited: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable(name: str, rate: object) -> float:
        raise BackendUnavailable("redis: connection refused")

    monkeypatch.setattr(limited.app.state.services.rate_limiter, "take", unreachable)  # type: ignore[attr-defined]
    assert [limited.get("/v1/boards").status_code for _ in range(4)] == [200] * 4  # past the burst of 2
