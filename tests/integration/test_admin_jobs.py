"""Rebuild and replay through the HTTP API, in each profile: jobs that end, report
their progress and leave every rank as it was; and every bad input refused."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from starlette.testclient import TestClient

from podium.api.app import create_app
from podium.domain.boards import Board
from podium.settings import Settings
from tests.conftest import BoardNames
from tests.integration.test_api import make_board


def follow(client: TestClient, answer: Any, timeout_s: float = 60) -> dict[str, Any]:
    assert answer.status_code == 202, answer.text
    job: dict[str, Any] = answer.json()
    assert answer.headers["location"] == f"/v1/admin/jobs/{job['id']}"
    deadline = time.monotonic() + timeout_s
    while job["state"] == "running":
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
        job = client.get(f"/v1/admin/jobs/{job['id']}").json()
    return job


def fill(client: TestClient, board: str, users: int) -> list[tuple[str, int]]:
    scores = [{"user_id": f"u{i:03}", "score": (i * 37) % 101} for i in range(users)]
    for i in range(0, users, 50):  # wait=true polls the index once per user: a few at a time
        answer = client.post(f"/v1/boards/{board}/scores/batch?wait=true", json={"scores": scores[i : i + 50]})
        assert answer.status_code == 200, answer.text
    return ranking(client, board)


def ranking(client: TestClient, board: str) -> list[tuple[str, int]]:
    entries = client.get(f"/v1/boards/{board}/top?limit=1000").json()["entries"]
    return [(e["user_id"], e["score"]) for e in entries]


def test_rebuild_refills_a_board_and_leaves_every_rank(client: TestClient, b: BoardNames) -> None:
    make_board(client, b.arena)
    before = fill(client, b.arena, 300)
    client.delete(f"/v1/boards/{b.arena}/users/u007")  # a tombstone: rebuilt too
    before = [e for e in before if e[0] != "u007"]
    for _ in range(2):  # a second rebuild takes the next generation
        job = follow(client, client.post("/v1/admin/rebuild", json={"board": b.arena}))
        assert job["state"] == "done", job
        assert (job["kind"], job["done"], job["total"], job["applied"]) == ("rebuild", 300, 300, 300)
        assert ranking(client, b.arena) == before
    assert client.get(f"/v1/boards/{b.arena}").json()["users"] == 299
    # Writes go on after the swap, into the new generation.
    client.post(f"/v1/boards/{b.arena}/scores?wait=true", json={"user_id": "late", "score": 1000})
    assert ranking(client, b.arena)[0] == ("late", 1000)


def test_replay_is_harmless(client: TestClient, b: BoardNames, profile: str) -> None:
    make_board(client, b.arena)
    started = datetime.now(UTC).isoformat()
    before = fill(client, b.arena, 50)
    start: Any = 0 if profile == "embedded" else started
    job = follow(client, client.post("/v1/admin/replay", json={"from": start}))
    assert job["state"] == "done", job
    assert job["done"] >= 50 and job["done"] <= job["total"]
    if profile == "embedded":  # the distributed stack is shared: other tests' changes may be in flight
        assert job["applied"] == 0
    assert ranking(client, b.arena) == before


def test_a_board_being_rebuilt_is_refused_unless_forced(client: TestClient, b: BoardNames) -> None:
    make_board(client, b.arena)
    fill(client, b.arena, 10)
    index = client.app.state.services.admin.index  # type: ignore[attr-defined]
    assert client.portal is not None
    client.portal.call(index.begin_rebuild, Board(b.arena))  # a rebuild whose process died
    refused = client.post("/v1/admin/rebuild", json={"board": b.arena})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "rebuild_running"
    job = follow(client, client.post("/v1/admin/rebuild", json={"board": b.arena, "force": True}))
    assert job["state"] == "done" and job["done"] == 10, job


def test_bad_admin_requests_are_refused(client: TestClient, b: BoardNames) -> None:
    cases = [
        ("/v1/admin/rebuild", {"board": b.nope}, 404, "board_not_found"),
        ("/v1/admin/rebuild", {"board": "bad board"}, 400, "invalid_board"),
        ("/v1/admin/rebuild", {"boards": "x"}, 400, "unknown_field"),
        ("/v1/admin/rebuild", {"force": "yes"}, 400, "invalid_force"),
        ("/v1/admin/replay", {}, 400, "missing_field"),
        ("/v1/admin/replay", {"from": -1}, 400, "invalid_from"),
        ("/v1/admin/replay", {"from": "yesterday"}, 400, "invalid_from"),
        ("/v1/admin/replay", {"from": True}, 400, "invalid_from"),
        ("/v1/admin/replay", {"from": "²"}, 400, "invalid_from"),  # a digit to str.isdigit(), not to int(): was a 500
    ]
    for path, body, status, code in cases:
        answer = client.post(path, json=body)
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), (body, answer.text)
    unknown = client.get("/v1/admin/jobs/rebuild-1-nope")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "job_not_found")


def test_two_api_apps_see_the_same_job(client: TestClient, settings: Settings, b: BoardNames) -> None:
    """Two api processes over one store: a job one started is followed through the other,
    which answers it as recorded (owner, lease, progress, end)."""
    make_board(client, b.arena)
    fill(client, b.arena, 20)
    answer = client.post("/v1/admin/rebuild", json={"board": b.arena})
    assert answer.status_code == 202, answer.text
    started = answer.json()
    assert started["owner"] and started["lease_until"] is not None
    with TestClient(create_app(settings)) as other:
        seen = other.get(f"/v1/admin/jobs/{started['id']}")
        assert seen.status_code == 200, seen.text
        assert (seen.json()["kind"], seen.json()["owner"]) == ("rebuild", started["owner"])
        ended = follow(other, answer)
    assert (ended["state"], ended["done"], ended["total"], ended["lease_until"]) == ("done", 20, 20, None)
    assert follow(client, answer) == ended  # the owner answers the same record once it ended
