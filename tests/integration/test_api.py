"""The v1 HTTP contract, through the whole embedded pipeline."""

from __future__ import annotations

import time
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import BoardNames


def make_board(client: TestClient, name: str, **settings: str) -> dict[str, Any]:
    answer = client.put(f"/v1/boards/{name}", json=settings)
    assert answer.status_code in (200, 201), answer.text
    body: dict[str, Any] = answer.json()
    return body


def core(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry's rank, user and score: what these tests check (answers carry more)."""
    return {k: entry[k] for k in ("rank", "user_id", "score")}


def submit(client: TestClient, board: str, user: str, score: int, key: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"user_id": user, "score": score}
    if key is not None:
        body["key"] = key
    answer = client.post(f"/v1/boards/{board}/scores?wait=true", json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_board_create_is_idempotent_and_conflicts_on_other_settings(client: TestClient, b: BoardNames) -> None:
    created = client.put(f"/v1/boards/{b.arena}", json={"order": "asc", "operator": "best"})
    assert created.status_code == 201
    assert created.json() == {
        "board": b.arena,
        "order": "asc",
        "operator": "best",
        "tie": "unique",
        "subscore_order": None,
        "windows": ["all"],
        "timezone": "UTC",
        "keep_periods": 7,
        "allow_operator_override": False,
        "reads": "key",
        "rules": {},
        "users": 0,
    }
    again = client.put(f"/v1/boards/{b.arena}", json={"order": "asc", "operator": "best"})
    assert again.status_code == 200
    conflict = client.put(f"/v1/boards/{b.arena}", json={"order": "desc"})
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "board_exists"
    assert client.get(f"/v1/boards/{b.arena}").json()["order"] == "asc"


def test_board_defaults_are_desc_and_incr(client: TestClient, b: BoardNames) -> None:
    made = client.put(f"/v1/boards/{b.plain}").json()
    assert {k: made[k] for k in ("board", "order", "operator", "tie", "windows", "users")} == {
        "board": b.plain,
        "order": "desc",
        "operator": "incr",
        "tie": "unique",
        "windows": ["all"],
        "users": 0,
    }


def test_submit_without_wait_is_accepted(client: TestClient, b: BoardNames) -> None:
    make_board(client, b.arena)
    answer = client.post(f"/v1/boards/{b.arena}/scores", json={"user_id": "ada", "score": 5})
    assert (answer.status_code, answer.json()) == (202, {"accepted": True})


def test_incr_adds_and_wait_returns_the_new_total_and_rank(client: TestClient, b: BoardNames) -> None:
    make_board(client, b.arena)
    assert core(submit(client, b.arena, "ada", 10)) == {"rank": 1, "user_id": "ada", "score": 10}
    assert core(submit(client, b.arena, "bob", 30)) == {"rank": 1, "user_id": "bob", "score": 30}
    assert core(submit(client, b.arena, "ada", 25)) == {"rank": 1, "user_id": "ada", "score": 35}
    assert core(client.get(f"/v1/boards/{b.arena}/users/bob").json()) == {"rank": 2, "user_id": "bob", "score": 30}
    assert client.get(f"/v1/boards/{b.arena}").json()["users"] == 2


def test_best_keeps_the_best_and_set_keeps_the_latest(client: TestClient, b: BoardNames) -> None:
    make_board(client, b.best, operator="best")
    make_board(client, b.golf, order="asc", operator="best")
    make_board(client, b.latest, operator="set")
    for score in (5, 9, 2):
        submit(client, b.best, "u", score)
        submit(client, b.golf, "u", score)
        last = submit(client, b.latest, "u", score)
    assert client.get(f"/v1/boards/{b.best}/users/u").json()["score"] == 9
    assert client.get(f"/v1/boards/{b.golf}/users/u").json()["score"] == 2
    assert last["score"] == 2


def test_the_same_idempotency_key_counts_once(client: TestClient, b: BoardNames) -> None:
    make_board(client, b.arena)
    submit(client, b.arena, "ada", 10, key="match-1")
    again = submit(client, b.arena, "ada", 10, key="match-1")
    assert again["score"] == 10
    submit(client, b.arena, "ada", 1, key="match-2")
    assert client.get(f"/v1/boards/{b.arena}/users/ada").json()["score"] == 11
    # The key is per board: the same key elsewhere is a different submission.
    make_board(client, b.other)
    assert submit(client, b.other, "ada", 10, key="match-1")["score"] == 10


def test_equal_scores_rank_by_who_reached_them_first(client: TestClient, b: BoardNames) -> None:
    make_board(client, b.arena)
    submit(client, b.arena, "early", 50)
    submit(client, b.arena, "late", 20)
    submit(client, b.arena, "late", 30)  # reaches 50 after `early`
    top = client.get(f"/v1/boards/{b.arena}/top").json()
    assert [e["user_id"] for e in top["entries"]] == ["early", "late"]
    assert [e["rank"] for e in top["entries"]] == [1, 2]


def test_top_pages_with_limit_and_offset(client: TestClient, b: BoardNames) -> None:
    make_board(client, b.arena)
    scores = {f"u{i}": i * 10 for i in range(1, 8)}
    answer = client.post(
        f"/v1/boards/{b.arena}/scores/batch?wait=true",
        json={"scores": [{"user_id": u, "score": s} for u, s in scores.items()]},
    )
    assert answer.status_code == 200
    assert [r["user_id"] for r in answer.json()["results"]] == list(scores)
    page = client.get(f"/v1/boards/{b.arena}/top?limit=3&offset=2").json()
    assert page["board"] == b.arena and page["users"] == 7
    assert [core(e) for e in page["entries"]] == [
        {"rank": 3, "user_id": "u5", "score": 50},
        {"rank": 4, "user_id": "u4", "score": 40},
        {"rank": 5, "user_id": "u3", "score": 30},
    ]
    assert client.get(f"/v1/boards/{b.arena}/top?offset=7").json()["entries"] == []
    assert len(client.get(f"/v1/boards/{b.arena}/top").json()["entries"]) == 7


def test_around_is_clipped_at_the_top_and_bottom(client: TestClient, b: BoardNames) -> None:
    make_board(client, b.arena)
    client.post(
        f"/v1/boards/{b.arena}/scores/batch?wait=true",
        json={"scores": [{"user_id": f"u{i}", "score": 100 - i} for i in range(10)]},
    )
    ranks = [e["rank"] for e in client.get(f"/v1/boards/{b.arena}/users/u4/around?radius=2").json()["entries"]]
    assert ranks == [3, 4, 5, 6, 7]
    assert [e["rank"] for e in client.get(f"/v1/boards/{b.arena}/users/u0/around?radius=2").json()["entries"]] == [
        1,
        2,
        3,
    ]
    assert [e["rank"] for e in client.get(f"/v1/boards/{b.arena}/users/u9/around").json()["entries"]] == [
        5,
        6,
        7,
        8,
        9,
        10,
    ]
    only = client.get(f"/v1/boards/{b.arena}/users/u4/around?radius=0").json()["entries"]
    assert [core(e) for e in only] == [{"rank": 5, "user_id": "u4", "score": 96}]


def test_delete_unranks_the_user(client: TestClient, b: BoardNames) -> None:
    make_board(client, b.arena)
    submit(client, b.arena, "ada", 10)
    submit(client, b.arena, "bob", 5)
    assert client.delete(f"/v1/boards/{b.arena}/users/ada").status_code == 204
    assert client.get(f"/v1/boards/{b.arena}/users/ada").status_code == 404
    assert client.get(f"/v1/boards/{b.arena}/users/bob").json()["rank"] == 1
    assert client.get(f"/v1/boards/{b.arena}").json()["users"] == 1
    # A removed user starts afresh.
    assert core(submit(client, b.arena, "ada", 1)) == {"rank": 2, "user_id": "ada", "score": 1}


def test_unknown_user_is_404(client: TestClient, b: BoardNames) -> None:
    make_board(client, b.arena)
    for path in (f"/v1/boards/{b.arena}/users/ghost", f"/v1/boards/{b.arena}/users/ghost/around"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "user_not_found"


def test_list_boards_names_every_board_sorted(client: TestClient, b: BoardNames) -> None:
    make_board(client, b.zeta)
    make_board(client, b.alpha)
    names = client.get("/v1/boards").json()["boards"]
    assert names == sorted(names)
    assert names.index(b.alpha) < names.index(b.zeta)


def test_health_and_openapi(client: TestClient, b: BoardNames) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    top = {p["name"] for p in doc["paths"]["/v1/boards/{board}/top"]["get"]["parameters"]}
    assert {"limit", "offset", "cursor", "window", "period"} <= top
    # Every operation the app serves under /v1 (each path and method) is in the document.
    from starlette.routing import Route

    from podium.api.app import ROUTES

    served = {
        (r.path, method.lower())
        for r in ROUTES
        if isinstance(r, Route) and r.path.startswith("/v1/")  # not WebSockets
        for method in r.methods or ()
        if method != "HEAD"  # starlette's own, beside each GET
    }
    documented = {(path, method) for path, item in doc["paths"].items() for method in item if method != "parameters"}
    assert served and served <= documented, sorted(served - documented)


def test_the_openapi_document_is_the_same_every_time(client: TestClient) -> None:
    # It was built on shared parts, and each request added the window parameters again.
    first = client.get("/openapi.json").json()
    assert client.get("/openapi.json").json() == first
    for path, item in first["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            named = [(p["name"], p["in"]) for p in item.get("parameters", []) + operation.get("parameters", [])]
            assert len(named) == len(set(named)), (method, path, named)


def test_state_survives_a_restart(settings: Any, b: BoardNames) -> None:
    from podium.api.app import create_app

    with TestClient(create_app(settings)) as first:
        make_board(first, b.keep, operator="best")
        submit(first, b.keep, "ada", 7)
        submit(first, b.keep, "bob", 9)
    with TestClient(create_app(settings)) as second:
        assert [e["user_id"] for e in second.get(f"/v1/boards/{b.keep}/top").json()["entries"]] == ["bob", "ada"]
        assert submit(second, b.keep, "ada", 10)["rank"] == 1


def test_buckets_cover_the_board(client: TestClient, b: BoardNames, settings: Any) -> None:
    make_board(client, b.arena)
    body = {"scores": [{"user_id": f"u{i}", "score": i % 13} for i in range(30)]}
    assert client.post(f"/v1/boards/{b.arena}/scores/batch?wait=true", json=body).status_code == 200
    deadline = time.monotonic() + 20
    while True:  # splits are lazy: a bucket's members move over, then it splits again, in the background
        answer = client.get(f"/v1/admin/boards/{b.arena}/buckets").json()
        settled = not any(x["moving"] for x in answer["buckets"])
        small = all(x["members"] <= 8 for x in answer["buckets"]) or settings.profile != "distributed"
        if (settled and small) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert answer["board"] == b.arena
    buckets = answer["buckets"]
    assert sum(x["members"] for x in buckets) == 30
    assert buckets[0]["lower"] is None and all(x["lower"] is not None for x in buckets[1:])
    if settings.profile == "distributed":  # buckets of at most 8 (the tests' setting), over several shards
        assert len(buckets) >= 4 and all(x["members"] <= 8 for x in buckets)
        assert len({x["shard"] for x in buckets}) > 1
    else:
        assert len(buckets) == 1
    assert client.get("/v1/admin/boards/nope/buckets").status_code == 404


def test_the_web_page_is_served(client: TestClient) -> None:
    picker = client.get("/")
    assert picker.status_code == 200 and picker.headers["content-type"].startswith("text/html")
    assert "/web/picker.js" in picker.text
    page = client.get("/boards/arena")
    assert page.status_code == 200 and "/web/board.js" in page.text
    for name, kind in (("board.js", "javascript"), ("picker.js", "javascript"), ("style.css", "text/css")):
        answer = client.get(f"/web/{name}")
        assert answer.status_code == 200 and kind in answer.headers["content-type"], name
    assert client.get("/boards/bad%20name").status_code == 400
    assert client.get("/web/missing.js").status_code == 404
