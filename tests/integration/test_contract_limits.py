"""One source for the contract's limits: a service started with other limits (from the
environment, as `podium serve` reads them) shows them in /openapi.json and enforces them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from podium.api.app import create_app
from podium.settings import Settings

LIMITS = {
    "PODIUM_MAX_BATCH": "50",
    "PODIUM_MAX_DISPLAY_NAME": "20",
    "PODIUM_MAX_FRIENDS": "30",
    "PODIUM_LIVE_MAX_TOP": "25",
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    env = {**LIMITS, "PODIUM_DATA": str(tmp_path / "data"), "PODIUM_AUTH": "off", "PODIUM_WAIT_TIMEOUT_S": "5"}
    with TestClient(create_app(Settings.from_env(env))) as test_client:
        yield test_client


def query_max(doc: dict[str, Any], path: str, name: str) -> int:
    [param] = [p for p in doc["paths"][path]["get"]["parameters"] if p["name"] == name]
    maximum: int = param["schema"]["maximum"]
    return maximum


def test_openapi_shows_the_limits_the_service_was_started_with(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert schemas["SubmissionBatch"]["properties"]["scores"]["maxItems"] == 50
    [name, _] = schemas["Submission"]["properties"]["display_name"]["anyOf"]
    assert name["maxLength"] == 20
    assert schemas["FriendList"]["properties"]["friends"]["maxItems"] == 30
    # The user and every friend fit in the friends board's largest page.
    assert query_max(doc, "/v1/boards/{board}/users/{user_id}/friends", "limit") == 31
    assert query_max(doc, "/v1/boards/{board}/events", "top") == 25


def test_the_service_enforces_the_limits_its_document_shows(client: TestClient) -> None:
    assert client.put("/v1/boards/arena", json={}).status_code == 201
    batch = [{"user_id": f"u{i}", "score": i} for i in range(51)]
    over = client.post("/v1/boards/arena/scores/batch", json={"scores": batch})
    assert over.status_code == 400
    assert over.json()["error"] == {"code": "batch_too_large", "message": "a batch holds at most 50 scores"}
    assert client.post("/v1/boards/arena/scores/batch", json={"scores": batch[:50]}).status_code == 202
    long_name = client.post("/v1/boards/arena/scores", json={"user_id": "ada", "score": 1, "display_name": "x" * 21})
    assert long_name.status_code == 400
    assert long_name.json()["error"]["code"] == "invalid_display_name"
    named = client.post("/v1/boards/arena/scores", json={"user_id": "ada", "score": 1, "display_name": "x" * 20})
    assert named.status_code == 202
    friends = [f"f{i}" for i in range(31)]
    too_long = client.put("/v1/users/ada/friends", json={"friends": friends})
    assert too_long.status_code == 400
    assert too_long.json()["error"]["code"] == "too_many_friends"
    assert client.put("/v1/users/ada/friends", json={"friends": friends[:30]}).status_code == 200
    too_many = client.get("/v1/boards/arena/users/ada/friends", params={"limit": 32})
    assert too_many.status_code == 400
    assert client.get("/v1/boards/arena/users/ada/friends", params={"limit": 31}).status_code == 200
