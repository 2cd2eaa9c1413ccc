"""Shadow-bans, privacy deletes and exports through the HTTP API, in both profiles. Friend
lists and deletes are global (not per board), so every user id carries the test's suffix."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from starlette.testclient import TestClient

from podium.pipeline.ingest import Submission
from podium.settings import Settings
from tests.conftest import BoardNames
from tests.integration.test_api import make_board
from tests.integration.test_bad_input import assert_refused, seeded, state  # noqa: F401 (fixture)
from tests.integration.test_friends_api import friends_board, put_friends, submit_all


def ranked(client: TestClient, board: str) -> list[tuple[int, str, int]]:
    body = client.get(f"/v1/boards/{board}/top", params={"limit": 100}).json()
    entries = [(e["rank"], e["user_id"], e["score"]) for e in body["entries"]]
    assert body["users"] == len(entries)  # the count leaves out whom the page leaves out
    return entries


def around(client: TestClient, board: str, user: str, radius: int) -> list[tuple[int, str]]:
    answer = client.get(f"/v1/boards/{board}/users/{user}/around", params={"radius": radius})
    assert answer.status_code == 200, answer.text
    return [(e["rank"], e["user_id"]) for e in answer.json()["entries"]]


def entry(client: TestClient, board: str, user: str) -> tuple[int, int] | None:
    answer = client.get(f"/v1/boards/{board}/users/{user}")
    if answer.status_code == 404:
        return None
    assert answer.status_code == 200, answer.text
    return answer.json()["rank"], answer.json()["score"]


def hide(client: TestClient, board: str, user: str, hidden: bool = True) -> None:
    path = f"/v1/boards/{board}/users/{user}/hide"
    answer = client.post(path) if hidden else client.delete(path)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"board": board, "user_id": user, "hidden": hidden}


def submit_named(client: TestClient, board: str, user: str, score: int, name: str, metadata: str) -> None:
    """A score with a display name and metadata, through the ingest port (the v1 body has
    no fields for them yet), once visible."""
    svc = client.app.state.services  # type: ignore[attr-defined]
    assert client.portal is not None
    [position] = client.portal.call(svc.ingest.submit, [Submission(board, user, score, None, 0, None, name, metadata)])
    found = client.portal.call(svc.boards.get, board)
    assert client.portal.call(svc.visibility.wait, found, user, position, 20.0)


def test_a_hidden_user_leaves_everyone_elses_views_and_keeps_its_own(client: TestClient, b: BoardNames) -> None:
    make_board(client, b.arena)
    submit_all(client, b.arena, {b.ada: 50, b.bob: 40, b.cy: 30, b.dee: 20})
    put_friends(client, b.ada, [b.bob, b.cy])
    friends_board(client, b.arena, b.ada, [(b.ada, 50), (b.bob, 40), (b.cy, 30)])

    hide(client, b.arena, b.bob)
    assert ranked(client, b.arena) == [(1, b.ada, 50), (2, b.cy, 30), (3, b.dee, 20)]
    assert around(client, b.arena, b.cy, 1) == [(1, b.ada), (2, b.cy), (3, b.dee)]  # skips bob, ranks close up
    assert entry(client, b.arena, b.cy) == (2, 30)
    assert entry(client, b.arena, b.bob) == (2, 40)  # its own view: the rank it would have
    body = friends_board(client, b.arena, b.ada, [(b.ada, 50), (b.cy, 30)])
    assert [(e["user_id"], e["global_rank"]) for e in body["entries"]] == [(b.ada, 1), (b.cy, 2)]
    # bob's own friends board (cy is its friend) still shows bob, where it would be.
    put_friends(client, b.bob, [b.cy])
    own = client.get(f"/v1/boards/{b.arena}/users/{b.bob}/friends").json()["entries"]
    assert [(e["rank"], e["user_id"], e["global_rank"]) for e in own] == [(1, b.bob, 2), (2, b.cy, 3)]

    # The ban survives a new score: bob sees its new place, nobody else sees bob.
    answer = client.post(f"/v1/boards/{b.arena}/scores?wait=true", json={"user_id": b.bob, "score": 100})
    assert (answer.json()["rank"], answer.json()["score"]) == (1, 140)
    assert ranked(client, b.arena) == [(1, b.ada, 50), (2, b.cy, 30), (3, b.dee, 20)]
    assert entry(client, b.arena, b.ada) == (1, 50)
    friends_board(client, b.arena, b.ada, [(b.ada, 50), (b.cy, 30)])
    hide(client, b.arena, b.bob)  # again: still hidden, nothing else moves
    assert ranked(client, b.arena) == [(1, b.ada, 50), (2, b.cy, 30), (3, b.dee, 20)]

    hide(client, b.arena, b.bob, hidden=False)
    assert ranked(client, b.arena) == [(1, b.bob, 140), (2, b.ada, 50), (3, b.cy, 30), (4, b.dee, 20)]
    assert around(client, b.arena, b.ada, 1) == [(1, b.bob), (2, b.ada), (3, b.cy)]
    assert entry(client, b.arena, b.bob) == (1, 140)
    body = friends_board(client, b.arena, b.ada, [(b.bob, 140), (b.ada, 50), (b.cy, 30)])
    assert [e["global_rank"] for e in body["entries"]] == [1, 2, 3]


def test_a_ban_before_any_score_waits_for_it_and_outlasts_a_removal(client: TestClient, b: BoardNames) -> None:
    make_board(client, b.arena)
    submit_all(client, b.arena, {b.ada: 10})
    hide(client, b.arena, b.ghost)  # no score yet: allowed
    assert entry(client, b.arena, b.ghost) is None
    submit_all(client, b.arena, {b.ghost: 50})
    assert ranked(client, b.arena) == [(1, b.ada, 10)]
    assert entry(client, b.arena, b.ghost) == (1, 50)
    assert client.delete(f"/v1/boards/{b.arena}/users/{b.ghost}").status_code == 204
    assert entry(client, b.arena, b.ghost) is None
    submit_all(client, b.arena, {b.ghost: 7})  # back after a removal: still banned
    assert ranked(client, b.arena) == [(1, b.ada, 10)]
    assert entry(client, b.arena, b.ghost) == (2, 7)
    hide(client, b.arena, b.ghost, hidden=False)
    assert ranked(client, b.arena) == [(1, b.ada, 10), (2, b.ghost, 7)]


def test_a_privacy_delete_removes_the_user_everywhere(client: TestClient, b: BoardNames, settings: Settings) -> None:
    make_board(client, b.arena)
    make_board(client, b.golf, order="asc", operator="best")
    make_board(client, b.other)  # the user never played here
    submit_named(client, b.arena, b.ada, 30, "Ada L.", '{"car":"red","lvl":3}')
    submit_all(client, b.arena, {b.bob: 20, b.cy: 10})
    submit_all(client, b.golf, {b.ada: 60, b.bob: 70})
    submit_all(client, b.other, {b.bob: 1})
    assert client.get(f"/v1/boards/{b.arena}/users/{b.ada}").json()["display_name"] == "Ada L."
    put_friends(client, b.ada, [b.bob, b.cy])
    put_friends(client, b.bob, [b.ada, b.cy])
    put_friends(client, b.cy, [b.ada])
    friends_board(client, b.arena, b.bob, [(b.ada, 30), (b.bob, 20), (b.cy, 10)])

    assert client.get(f"/v1/boards/{b.arena}/users/{b.ada}/history").json()["points"] != []
    answer = client.delete(f"/v1/users/{b.ada}")
    assert answer.status_code == 200, answer.text
    for board in (b.arena, b.golf):  # the rank history goes with the user
        assert client.get(f"/v1/boards/{board}/users/{b.ada}/history").json()["points"] == []
    assert client.get(f"/v1/boards/{b.arena}/users/{b.bob}/history").json()["points"] != []
    # Two on ada's own list, and ada on bob's and cy's.
    assert answer.json() == {"user_id": b.ada, "boards": sorted([b.arena, b.golf]), "friends_removed": 4}

    assert ranked(client, b.arena) == [(1, b.bob, 20), (2, b.cy, 10)]
    assert ranked(client, b.golf) == [(1, b.bob, 70)]
    for board in (b.arena, b.golf):
        assert entry(client, board, b.ada) is None
        assert client.get(f"/v1/boards/{board}/users/{b.ada}/around").status_code == 404
        assert client.get(f"/v1/boards/{board}/users/{b.ada}/friends").json()["entries"] == []
    assert around(client, b.arena, b.bob, 5) == [(1, b.bob), (2, b.cy)]
    friends_board(client, b.arena, b.bob, [(b.bob, 20), (b.cy, 10)])
    assert client.get(f"/v1/users/{b.ada}/friends").json()["friends"] == []
    assert client.get(f"/v1/users/{b.bob}/friends").json()["friends"] == [b.cy]
    assert client.get(f"/v1/users/{b.cy}/friends").json()["friends"] == []

    exported = client.get(f"/v1/users/{b.ada}/export").json()
    assert (exported["user_id"], exported["friends"], exported["followers"]) == (b.ada, [], [])
    assert [e["board"] for e in exported["entries"]] == sorted([b.arena, b.golf])
    for e in exported["entries"]:
        assert e["updated_at_us"] > 0
        assert {k: v for k, v in e.items() if k not in ("board", "updated_at_us")} == {
            "score": 0,
            "subscore": 0,
            "best_score": 0,
            "hidden": False,
            "removed": True,
            "display_name": None,
            "metadata": None,
            "region": None,  # one region: none recorded (docs/global.md)
            "rank": None,  # off the board
        }
    if settings.profile == "embedded":  # the store's own rows: the distributed test reads Cassandra's
        with sqlite3.connect(settings.data / "store.db") as conn:
            rows = conn.execute(
                "SELECT board, removed, total, best_total, display_name, metadata FROM totals WHERE user_id = ?",
                (b.ada,),
            ).fetchall()
        assert sorted(rows) == sorted([(b.arena, 1, 0, 0, "", ""), (b.golf, 1, 0, 0, "", "")])

    again = client.delete(f"/v1/users/{b.ada}")  # repeatable: nothing left to drop from the lists
    assert again.json() == {"user_id": b.ada, "boards": sorted([b.arena, b.golf]), "friends_removed": 0}
    assert ranked(client, b.arena) == [(1, b.bob, 20), (2, b.cy, 10)]
    # Nothing else was touched.
    assert client.get(f"/v1/users/{b.bob}/export").json()["followers"] == []
    assert [e["board"] for e in client.get(f"/v1/users/{b.bob}/export").json()["entries"]] == sorted(
        [b.arena, b.golf, b.other]
    )


def test_an_export_shows_everything_held_about_the_user(client: TestClient, b: BoardNames) -> None:
    assert client.get(f"/v1/users/{b.nobody}/export").json() == {
        "user_id": b.nobody,
        "entries": [],
        "friends": [],
        "followers": [],
    }
    make_board(client, b.arena)
    make_board(client, b.golf, order="asc", operator="best")
    submit_named(client, b.arena, b.ada, 30, "Ada", '{"car":"red"}')
    submit_all(client, b.arena, {b.ada: 5})  # incr: 35, the name and metadata kept
    submit_all(client, b.golf, {b.ada: 60})
    submit_all(client, b.golf, {b.ada: 70})  # worse on golf: the best stays
    hide(client, b.golf, b.ada)
    put_friends(client, b.ada, [b.cy, b.bob])
    put_friends(client, b.dee, [b.ada])
    exported = client.get(f"/v1/users/{b.ada}/export").json()
    assert all(e.pop("updated_at_us") > 0 for e in exported["entries"])
    assert exported == {
        "user_id": b.ada,
        "entries": [
            {
                "board": b.arena,
                "score": 35,
                "subscore": 0,
                "best_score": 35,
                "hidden": False,
                "removed": False,
                "display_name": "Ada",
                "metadata": {"car": "red"},
                "region": None,  # one region: none recorded (docs/global.md)
                "rank": 1,
            },
            {
                "board": b.golf,
                "score": 60,
                "subscore": 0,
                "best_score": 60,
                "hidden": True,
                "removed": False,
                "display_name": None,
                "metadata": None,
                "region": None,  # one region: none recorded (docs/global.md)
                "rank": 1,  # its own view: the rank it would have
            },
        ],
        "friends": sorted([b.bob, b.cy]),
        "followers": [b.dee],
    }


def test_every_schema_the_openapi_document_refers_to_is_in_it(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    refs = [v for v in _walk(doc) if isinstance(v, str) and v.startswith("#/components/schemas/")]
    missing = [r for r in refs if r.rsplit("/", 1)[1] not in doc["components"]["schemas"]]
    assert refs and not missing, missing


def _walk(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [v for value in node.values() for v in _walk(value)]
    if isinstance(node, list):
        return [v for value in node for v in _walk(value)]
    return [node]


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("POST", "/v1/boards/{arena}/users/bad%20id/hide", 400, "invalid_user_id"),
        ("DELETE", "/v1/boards/{arena}/users/bad%20id/hide", 400, "invalid_user_id"),
        ("POST", "/v1/boards/{arena}/users/{long}/hide", 400, "invalid_user_id"),
        ("POST", "/v1/boards/bad%20board/users/ada/hide", 400, "invalid_board"),
        ("POST", "/v1/boards/{fresh}/users/ada/hide", 404, "board_not_found"),
        ("DELETE", "/v1/boards/{fresh}/users/ada/hide", 404, "board_not_found"),
        ("PUT", "/v1/boards/{arena}/users/ada/hide", 405, "method_not_allowed"),
        ("DELETE", "/v1/users/bad%20id", 400, "invalid_user_id"),
        ("DELETE", "/v1/users/{long}", 400, "invalid_user_id"),
        ("POST", "/v1/users/ada", 405, "method_not_allowed"),
        ("GET", "/v1/users/bad%20id/export", 400, "invalid_user_id"),
    ],
)
def test_bad_requests_change_nothing(
    seeded: TestClient,  # noqa: F811 (the fixture)
    settings: Settings,
    b: BoardNames,
    method: str,
    path: str,
    status: int,
    code: str,
) -> None:
    before = state(seeded, settings, b)
    url = path.format(arena=b.arena, fresh=b.fresh, long="x" * 129)
    assert_refused(seeded.request(method, url), status, code)
    assert state(seeded, settings, b) == before
