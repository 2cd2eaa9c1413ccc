"""Every bad request gets a clear 4xx JSON error and changes nothing."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from starlette.testclient import TestClient

from podium.settings import Settings
from tests.conftest import BoardNames

MAX = 2**53 - 1
GOOD = {"user_id": "ada", "score": 5}


@pytest.fixture
def seeded(client: TestClient, b: BoardNames) -> TestClient:
    client.put(f"/v1/boards/{b.arena}", json={})
    answer = client.post(
        f"/v1/boards/{b.arena}/scores/batch?wait=true",
        json={"scores": [{"user_id": "ada", "score": 10}, {"user_id": "bob", "score": 20}]},
    )
    assert answer.status_code == 200
    return client


def state(client: TestClient, settings: Settings, b: BoardNames) -> tuple[Any, ...]:
    """Everything a request could have changed: the log, the store and what reads show."""
    shown = client.get(f"/v1/boards/{b.arena}/top?limit=1000").json(), client.get(f"/v1/boards/{b.fresh}").status_code
    if settings.profile == "distributed":
        from tests.distributed.hops import ingest_end_offsets, store_rows

        return ingest_end_offsets(), store_rows([b.arena, b.fresh]), shown
    with sqlite3.connect(settings.data / "log.db") as conn:
        records = conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]
    with sqlite3.connect(settings.data / "store.db") as conn:
        boards = conn.execute("SELECT * FROM boards ORDER BY board").fetchall()
        totals = conn.execute("SELECT * FROM totals ORDER BY board, user_id").fetchall()
    return records, boards, totals, shown


def assert_refused(answer: Any, status: int, code: str | None = None) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    error = answer.json()["error"]
    assert error["message"] and isinstance(error["message"], str)
    if code is not None:
        assert error["code"] == code, error


SCORE_BODIES = [
    pytest.param({"score": 5}, "missing_field", id="missing user_id"),
    pytest.param({"user_id": "ada"}, "missing_field", id="missing score"),
    pytest.param({**GOOD, "extra": 1}, "unknown_field", id="extra field"),
    pytest.param({**GOOD, "score": 1.5}, "invalid_score", id="float score"),
    pytest.param({**GOOD, "score": 1.0}, "invalid_score", id="integral float score"),
    pytest.param({**GOOD, "score": "5"}, "invalid_score", id="string score"),
    pytest.param({**GOOD, "score": True}, "invalid_score", id="bool score"),
    pytest.param({**GOOD, "score": None}, "invalid_score", id="null score"),
    pytest.param({**GOOD, "score": MAX + 1}, "invalid_score", id="score too high"),
    pytest.param({**GOOD, "score": -MAX - 1}, "invalid_score", id="score too low"),
    pytest.param({**GOOD, "user_id": ""}, "invalid_user_id", id="empty user id"),
    pytest.param({**GOOD, "user_id": "x" * 129}, "invalid_user_id", id="long user id"),
    pytest.param({**GOOD, "user_id": "a b"}, "invalid_user_id", id="user id with space"),
    pytest.param({**GOOD, "user_id": "ünï"}, "invalid_user_id", id="user id not ascii"),
    pytest.param({**GOOD, "user_id": 7}, "invalid_user_id", id="numeric user id"),
    pytest.param({**GOOD, "key": "bad key!"}, "invalid_key", id="bad idempotency key"),
    pytest.param({**GOOD, "key": ""}, "invalid_key", id="empty idempotency key"),
    pytest.param([GOOD], "invalid_body", id="array body"),
    pytest.param("ada", "invalid_body", id="string body"),
]


@pytest.mark.parametrize(("body", "code"), SCORE_BODIES)
@pytest.mark.parametrize("wait", ["", "?wait=true"])
def test_bad_submissions(
    seeded: TestClient, settings: Settings, b: BoardNames, body: Any, code: str, wait: str
) -> None:
    before = state(seeded, settings, b)
    assert_refused(seeded.post(f"/v1/boards/{b.arena}/scores{wait}", json=body), 400, code)
    # The same item inside a batch spoils the whole batch.
    batch = {"scores": [{"user_id": "carl", "score": 1}, body]}
    assert_refused(seeded.post(f"/v1/boards/{b.arena}/scores/batch{wait}", json=batch), 400, code)
    assert state(seeded, settings, b) == before


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"user_id": "ada", "score": 5', b"not json", b"", b'{"user_id": "ada", "score": NaN}', b"\xff\xfe"],
)
def test_malformed_json(seeded: TestClient, settings: Settings, b: BoardNames, raw: bytes) -> None:
    before = state(seeded, settings, b)
    assert_refused(seeded.post(f"/v1/boards/{b.arena}/scores", content=raw), 400, "invalid_json")
    assert_refused(seeded.post(f"/v1/boards/{b.arena}/scores/batch", content=raw), 400, "invalid_json")
    assert state(seeded, settings, b) == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"scores": []}, "invalid_scores"),
        ({"scores": {"user_id": "a", "score": 1}}, "invalid_scores"),
        ({"scores": [GOOD] * 1001}, "batch_too_large"),
        ({}, "missing_field"),
        ({"scores": [GOOD], "more": 1}, "unknown_field"),
    ],
)
def test_bad_batches(seeded: TestClient, settings: Settings, b: BoardNames, body: Any, code: str) -> None:
    before = state(seeded, settings, b)
    assert_refused(seeded.post(f"/v1/boards/{b.arena}/scores/batch", json=body), 400, code)
    assert state(seeded, settings, b) == before


def test_oversized_bodies_are_413(seeded: TestClient, settings: Settings, b: BoardNames) -> None:
    before = state(seeded, settings, b)
    huge = b'{"user_id": "ada", "score": 5, "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    assert_refused(seeded.post(f"/v1/boards/{b.arena}/scores", content=huge), 413, "body_too_large")

    def chunks() -> Any:  # no Content-Length: refused while streaming
        for _ in range(40):
            yield b"x" * 65536

    assert_refused(seeded.post(f"/v1/boards/{b.arena}/scores/batch", content=chunks()), 413, "body_too_large")
    assert state(seeded, settings, b) == before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/boards/nope/scores", GOOD),
        ("POST", "/v1/boards/nope/scores/batch", {"scores": [GOOD]}),
        ("GET", "/v1/boards/nope", None),
        ("GET", "/v1/boards/nope/top", None),
        ("GET", "/v1/boards/nope/users/ada", None),
        ("GET", "/v1/boards/nope/users/ada/around", None),
        ("DELETE", "/v1/boards/nope/users/ada", None),
    ],
)
def test_unknown_board_is_404(
    seeded: TestClient, settings: Settings, b: BoardNames, method: str, path: str, body: Any
) -> None:
    before = state(seeded, settings, b)
    assert_refused(seeded.request(method, path, json=body), 404, "board_not_found")
    assert state(seeded, settings, b) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/boards/bad%20board/top"),
        ("GET", "/v1/boards/" + "x" * 129),
        ("PUT", "/v1/boards/bad%21"),
        ("GET", "/v1/boards/{arena}/users/bad%20user"),
        ("DELETE", "/v1/boards/{arena}/users/bad%20user"),
        ("POST", "/v1/boards/b%C3%A9/scores"),
    ],
)
def test_bad_ids_in_the_path(seeded: TestClient, settings: Settings, b: BoardNames, method: str, path: str) -> None:
    before = state(seeded, settings, b)
    path = path.format(arena=b.arena)
    assert_refused(seeded.request(method, path, json=GOOD if method == "POST" else None), 400)
    assert state(seeded, settings, b) == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"order": "up"}, "invalid_order"),
        ({"operator": "max"}, "invalid_operator"),
        ({"order": "desc", "colour": "red"}, "unknown_field"),
        ([], "invalid_body"),
    ],
)
def test_bad_board_settings(seeded: TestClient, settings: Settings, b: BoardNames, body: Any, code: str) -> None:
    before = state(seeded, settings, b)
    assert_refused(seeded.put(f"/v1/boards/{b.fresh}", json=body), 400, code)
    assert_refused(seeded.put(f"/v1/boards/{b.arena}", json=body), 400, code)
    assert state(seeded, settings, b) == before
    assert seeded.get(f"/v1/boards/{b.fresh}").status_code == 404


def test_board_conflict_changes_nothing(seeded: TestClient, settings: Settings, b: BoardNames) -> None:
    before = state(seeded, settings, b)
    assert_refused(seeded.put(f"/v1/boards/{b.arena}", json={"operator": "best"}), 409, "board_exists")
    assert state(seeded, settings, b) == before


@pytest.mark.parametrize(
    "query",
    [
        "/top?limit=0",
        "/top?limit=1001",
        "/top?limit=ten",
        "/top?offset=-1",
        "/top?limit=1.5",
        "/users/ada/around?radius=101",
        "/users/ada/around?radius=-1",
        "/users/ada/around?radius=x",
    ],
)
def test_bad_query_parameters(seeded: TestClient, b: BoardNames, query: str) -> None:
    assert_refused(seeded.get(f"/v1/boards/{b.arena}{query}"), 400, "invalid_parameter")


def test_bad_wait_flag(seeded: TestClient, settings: Settings, b: BoardNames) -> None:
    before = state(seeded, settings, b)
    assert_refused(seeded.post(f"/v1/boards/{b.arena}/scores?wait=maybe", json=GOOD), 400, "invalid_parameter")
    assert state(seeded, settings, b) == before


def test_unknown_paths_and_methods(seeded: TestClient, b: BoardNames) -> None:
    assert_refused(seeded.get("/v2/nothing"), 404, "not_found")
    assert_refused(seeded.post(f"/v1/boards/{b.arena}"), 405, "method_not_allowed")
    assert_refused(seeded.patch(f"/v1/boards/{b.arena}/top"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        # One path, four routes: every one's methods, not only the first matched route's.
        ("POST", "/v1/boards/{arena}", "GET, HEAD, PUT, PATCH, DELETE"),
        ("PUT", "/v1/boards/{arena}/users/ada/hide", "POST, DELETE"),
        ("POST", "/v1/users/ada/friends", "GET, HEAD, PUT"),
        ("PATCH", "/v1/boards/{arena}/top", "GET, HEAD"),  # one route: as before
    ],
)
def test_405_allows_every_method_of_the_path(
    seeded: TestClient, b: BoardNames, method: str, path: str, allow: str
) -> None:
    answer = seeded.request(method, path.format(arena=b.arena))
    assert_refused(answer, 405, "method_not_allowed")
    assert answer.headers["allow"] == allow
