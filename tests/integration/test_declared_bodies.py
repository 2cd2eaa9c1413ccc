"""Bodies decoded with their declared types (podium/api/contract/): what a type refuses is
answered with the code and message the contract promises, and the one id the type's pattern
lets by (Python's `$` matches before a final newline) is still refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from podium.api.app import create_app
from podium.settings import Settings


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data=tmp_path / "data", auth="off", rate_key_per_s=0, rate_address_per_s=0)
    with TestClient(create_app(settings)) as test_client:
        assert test_client.put("/v1/boards/arena", json={}).status_code == 201
        yield test_client


def error(answer: Any) -> dict[str, Any]:
    assert answer.status_code == 400, answer.text
    found: dict[str, Any] = answer.json()["error"]
    return found


@pytest.mark.parametrize("field", ["user_id", "key"])
def test_an_id_ending_in_a_newline_is_refused(client: TestClient, field: str) -> None:
    item = {"user_id": "ada", "score": 1, field: "ada\n"}
    assert error(client.post("/v1/boards/arena/scores", json=item))["code"] == f"invalid_{field}"
    batch = {"scores": [{"user_id": "bob", "score": 2}, item]}
    assert error(client.post("/v1/boards/arena/scores/batch", json=batch))["code"] == f"invalid_{field}"
    lookup = {"user_ids": ["ada\n"]}
    assert error(client.post("/v1/boards/arena/users/lookup", json=lookup))["code"] == "invalid_user_id"


def test_what_a_type_refuses_keeps_its_code_and_message(client: TestClient) -> None:
    batch = {"scores": [{"user_id": "ada", "score": 1}, {"user_id": "bob", "score": 1.5}]}
    assert error(client.post("/v1/boards/arena/scores/batch", json=batch)) == {
        "code": "invalid_score",
        "message": "score must be an integer from -9007199254740991 to 9007199254740991",
    }
    unknown = {"scores": [{"user_id": "ada", "score": 1, "zz": 1, "aa": 2}]}
    assert error(client.post("/v1/boards/arena/scores/batch", json=unknown)) == {
        "code": "unknown_field",
        "message": "unknown field 'aa' in the scores[0]",
    }
    assert error(client.patch("/v1/boards/arena", json={"order": "asc"}))["code"] == "immutable_setting"
    assert error(client.put("/v1/boards/other", json={"windows": []}))["code"] == "invalid_windows"
    assert error(client.post("/v1/boards/arena/scores", content=b"{"))["code"] == "invalid_json"
    assert error(client.post("/v1/boards/arena/scores", content=b""))["message"] == (
        "the body is empty; send a JSON object"
    )


def test_the_admin_jobs_bodies_keep_their_codes(client: TestClient) -> None:
    assert error(client.post("/v1/admin/rebuild", json={"board": "arena\n"}))["code"] == "invalid_board"
    assert error(client.post("/v1/admin/rebuild", json={"force": "yes"}))["code"] == "invalid_force"
    assert error(client.post("/v1/admin/rebuild", json={"boards": ["arena"]}))["code"] == "unknown_field"
    assert error(client.post("/v1/admin/rebuild", content=b" "))["code"] == "invalid_json"
    assert error(client.post("/v1/admin/replay", json={"from": 1.0}))["code"] == "invalid_from"
    assert error(client.post("/v1/admin/replay", json={"from": "x" * 65}))["code"] == "invalid_from"
    assert error(client.post("/v1/admin/replay", json={}))["code"] == "missing_field"
    assert error(client.post("/v1/admin/replay", json={"from": 0, "to": 1}))["code"] == "unknown_field"
    assert error(client.post("/v1/admin/replay", content=b""))["message"] == "the body is empty; send a JSON object"
    # What the type lets by is still read as before: an offset in digits, a time without a zone.
    assert client.post("/v1/admin/replay", json={"from": "0"}).status_code == 202
    assert client.post("/v1/admin/replay", json={"from": "2026-01-31T12:00:00"}).status_code == 202
    assert client.post("/v1/admin/rebuild", content=b"").status_code == 202
