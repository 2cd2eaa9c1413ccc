"""Hostile input: bodies nested without end, values nested where a string belongs, numbers
of thousands of digits, a body declared larger than allowed. Each is a clear 4xx JSON error,
never a 500, and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from podium.settings import Settings
from tests.conftest import BoardNames
from tests.integration.test_bad_input import GOOD, assert_refused, state

DEEP = b"[" * 100_000
NESTED = b"[" * 1000 + b"]" * 1000  # within what the JSON parser takes, far past any field


@pytest.fixture
def seeded(client: TestClient, b: BoardNames) -> TestClient:
    client.put(f"/v1/boards/{b.arena}", json={})
    assert client.post(f"/v1/boards/{b.arena}/scores?wait=true", json=GOOD).status_code == 200
    return client


def metadata(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"level": depth}
    for level in range(depth - 1, 0, -1):
        value = {"level": level, "inner": value}
    return value


def test_a_deeply_nested_body_is_a_400(seeded: TestClient, settings: Settings, b: BoardNames) -> None:
    before = state(seeded, settings, b)
    for method, path in [
        ("POST", f"/v1/boards/{b.arena}/scores"),
        ("POST", f"/v1/boards/{b.arena}/scores/batch"),
        ("PUT", f"/v1/boards/{b.fresh}"),
        ("PATCH", f"/v1/boards/{b.arena}"),
        ("POST", f"/v1/boards/{b.arena}/users/lookup"),
        ("PUT", "/v1/users/ada/friends"),
        ("POST", "/v1/admin/reconcile"),
    ]:
        assert_refused(seeded.request(method, path, content=DEEP), 400, "invalid_json")
    assert state(seeded, settings, b) == before


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("POST", "/v1/boards/{arena}/scores", b'{"user_id": %s, "score": 1}'),
        ("POST", "/v1/boards/{arena}/scores", b'{"user_id": "ada", "score": 1, "display_name": %s}'),
        ("POST", "/v1/boards/{arena}/scores", b'{"user_id": "ada", "score": 1, "operator": %s}'),
        ("POST", "/v1/boards/{arena}/scores/batch", b'{"scores": [%s]}'),
        ("PUT", "/v1/boards/{fresh}", b'{"windows": [%s]}'),
        ("PUT", "/v1/boards/{fresh}", b'{"timezone": %s}'),
        ("PUT", "/v1/boards/{fresh}", b'{"rules": {"max_score": %s}}'),
        ("PATCH", "/v1/boards/{arena}", b'{"windows": [%s]}'),
        ("PATCH", "/v1/boards/{arena}", b'{"rules": %s}'),
        ("POST", "/v1/boards/{arena}/users/lookup", b'{"user_ids": [%s]}'),
        ("PUT", "/v1/users/ada/friends", b'{"friends": [%s]}'),
        ("POST", "/v1/admin/reconcile", b'{"boards": [%s]}'),
        ("POST", "/v1/admin/replay", b'{"from": %s}'),
    ],
)
def test_a_nested_value_where_a_plain_one_belongs_is_a_400(
    seeded: TestClient,
    settings: Settings,
    b: BoardNames,
    method: str,
    path: str,
    template: bytes,
) -> None:
    before = state(seeded, settings, b)
    answer = seeded.request(method, path.format(arena=b.arena, fresh=b.fresh), content=template % NESTED)
    assert_refused(answer, 400)
    assert state(seeded, settings, b) == before


def test_metadata_nested_past_the_limit_is_refused(seeded: TestClient, settings: Settings, b: BoardNames) -> None:
    before = state(seeded, settings, b)
    scores = f"/v1/boards/{b.arena}/scores"
    for depth in (settings.max_json_depth + 1, 300):  # 300: past what the JSON encoder takes
        body = {"user_id": "ada", "score": 1, "metadata": metadata(depth)}
        assert_refused(seeded.post(scores, json=body), 400, "metadata_too_deep")
        assert_refused(seeded.post(f"{scores}/batch", json={"scores": [body]}), 400, "metadata_too_deep")
    assert state(seeded, settings, b) == before
    body = {"user_id": "ada", "score": 1, "metadata": metadata(settings.max_json_depth)}
    assert seeded.post(f"{scores}?wait=true", json=body).status_code == 200


def test_a_body_declared_too_large_is_refused_before_it_is_read(
    seeded: TestClient,
    settings: Settings,
    b: BoardNames,
) -> None:
    read = []

    def body() -> Iterator[bytes]:
        read.append(True)
        yield b'{"user_id": "ada", "score": 1}'

    before = state(seeded, settings, b)
    too_large = {"content-length": str(settings.max_body_bytes + 1)}
    answer = seeded.post(f"/v1/boards/{b.arena}/scores", content=body(), headers=too_large)
    assert_refused(answer, 413, "body_too_large")
    assert read == []
    assert state(seeded, settings, b) == before


@pytest.mark.parametrize(
    "query",
    [
        "/top?cursor=" + "A" * 5000,
        "/top?cursor=WzEsIjk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5IiwiYSJd",  # [1,"99…9","a"]: past 64 bits
        "/top?cursor=WzEsIjEiLCJhIGIiXQ",  # [1,"1","a b"]: not a user id
        "/top?limit=" + "9" * 5000,
        "/range?min=" + "9" * 5000,
        "/top?window=" + "x" * 5000,
        "/top?window=day&period=" + "x" * 5000,
        "/users/ada/around?radius=" + "9" * 5000,
        "/events?last_event_id=" + "9" * 5000,
        "/events?last_event_id=%C2%B2",  # '²': a digit to str.isdigit, not to int()
    ],
)
def test_bad_query_parameters_are_a_400(seeded: TestClient, b: BoardNames, query: str) -> None:
    assert_refused(seeded.get(f"/v1/boards/{b.arena}{query}"), 400)


@pytest.mark.parametrize("start", ["9" * 5000, "²", 2**64 - 1, "0001-01-01T00:00:00+14:00x"])
def test_a_bad_replay_start_is_a_400(seeded: TestClient, start: Any) -> None:
    assert_refused(seeded.post("/v1/admin/replay", json={"from": start}), 400, "invalid_from")


def test_a_job_id_that_is_no_id_is_a_400_not_echoed(seeded: TestClient) -> None:
    answer = seeded.get("/v1/admin/jobs/" + "<script>" * 500)
    assert_refused(answer, 400, "invalid_job_id")
    assert "<script>" not in answer.text


@pytest.mark.parametrize(
    "headers",
    [
        {"authorization": "Bearer " + "x" * 100_000},
        {"authorization": b"Bearer \xff\xfe\x00"},
        {"x-padding": "y" * 60_000},
        {"content-length": "9" * 5000},
    ],
)
def test_absurd_headers_are_never_a_500(seeded: TestClient, b: BoardNames, headers: dict[str, Any]) -> None:
    assert seeded.get("/v1/boards", headers=headers).status_code < 500
    posted = seeded.post(f"/v1/boards/{b.arena}/scores", content=b'{"user_id": "ada", "score": 1}', headers=headers)
    assert posted.status_code < 500, posted.text
