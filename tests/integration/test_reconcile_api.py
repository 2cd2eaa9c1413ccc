"""POST /v1/admin/reconcile through the whole pipeline, in each profile: a clean board
reports what was checked and no drift; bad requests are clear 4xx answers."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.conftest import BoardNames


def test_reconcile_reports_a_clean_board(client: TestClient, b: BoardNames) -> None:
    assert client.put(f"/v1/boards/{b.arena}", json={}).status_code == 201
    scores = [{"user_id": u, "score": s} for u, s in (("ada", 30), ("bob", 20), ("cy", 10))]
    assert client.post(f"/v1/boards/{b.arena}/scores/batch?wait=true", json={"scores": scores}).status_code == 200
    answer = client.post("/v1/admin/reconcile", json={"boards": [b.arena], "dry_run": True})
    assert answer.status_code == 200
    report = answer.json()
    assert report["dry_run"] is True
    [board] = report["boards"]
    assert board["board"] == b.arena and board["check"] == "every_user"
    assert (board["store_users"], board["index_users"], board["checked_users"]) == (3, 3, 3)
    assert board["checked_ranks"] == 3 and board["drift"] == [] and board["remaining"] == 0
    assert report["totals"]["drift"] == 0 and report["totals"]["repaired"] == 0


def test_a_hidden_user_is_not_drift(client: TestClient, b: BoardNames) -> None:
    # The index answers a hidden user with its own view's rank, which no one else sees: it was
    # reported as wrong_rank on every run, and "repaired" each time with nothing to repair.
    assert client.put(f"/v1/boards/{b.arena}", json={}).status_code == 201
    scores = [{"user_id": u, "score": s} for u, s in (("ada", 30), ("bob", 20), ("cy", 10))]
    assert client.post(f"/v1/boards/{b.arena}/scores/batch?wait=true", json={"scores": scores}).status_code == 200
    assert client.post(f"/v1/boards/{b.arena}/users/ada/hide").status_code == 200
    report = client.post("/v1/admin/reconcile", json={"boards": [b.arena], "dry_run": True}).json()
    [board] = report["boards"]
    assert (board["store_users"], board["index_users"], board["drift"]) == (2, 2, [])


def test_reconcile_refuses_bad_requests(client: TestClient, b: BoardNames) -> None:
    cases = [
        ({"boards": "arena"}, 400, "invalid_boards"),
        ({"boards": ["no spaces"]}, 400, "invalid_board"),
        ({"boards": [b.missing]}, 404, "board_not_found"),
        ({"dry_run": "yes"}, 400, "invalid_dry_run"),
        ({"board": "x"}, 400, "unknown_field"),
        ([], 400, "invalid_body"),
    ]
    for body, status, code in cases:
        answer = client.post("/v1/admin/reconcile", json=body)
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), body
    for raw in (b"{nope", b"\x0c", b" \r\n\t"):  # no body is {}, but whitespace is not JSON
        answer = client.post("/v1/admin/reconcile", content=raw)
        assert (answer.status_code, answer.json()["error"]["code"]) == (400, "invalid_json"), raw
