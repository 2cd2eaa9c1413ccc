"""Friend lists and friends boards through the HTTP API, in both profiles. Friend lists
are global (not per board), so every user id here carries the test's own suffix."""

from __future__ import annotations

import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import BoardNames
from tests.integration.test_api import make_board
from tests.integration.test_bad_input import assert_refused

NO_DETAILS = {"display_name": None, "metadata": None}


def put_friends(client: TestClient, user: str, friends: list[str]) -> dict[str, Any]:
    answer = client.put(f"/v1/users/{user}/friends", json={"friends": friends})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def friends_board(client: TestClient, board: str, user: str, want: list[tuple[str, int]], **query: int) -> Any:
    """The friends board once its (user, score) pairs are `want`, or after 20 s whatever it is:
    the rank-worker fans totals out after they are visible in the rank index."""
    deadline = time.monotonic() + 20
    while True:
        body = client.get(f"/v1/boards/{board}/users/{user}/friends", params=query).json()
        if [(e["user_id"], e["score"]) for e in body["entries"]] == want or time.monotonic() > deadline:
            return body
        time.sleep(0.02)


def submit_all(client: TestClient, board: str, scores: dict[str, int]) -> None:
    body = {"scores": [{"user_id": u, "score": s} for u, s in scores.items()]}
    assert client.post(f"/v1/boards/{board}/scores/batch?wait=true", json=body).status_code == 200


def test_friend_lists_are_set_added_to_removed_from_and_read(client: TestClient, b: BoardNames) -> None:
    assert client.get(f"/v1/users/{b.ada}/friends").json() == {"user_id": b.ada, "friends": []}
    assert put_friends(client, b.ada, [b.cy, b.bob]) == {"user_id": b.ada, "friends": sorted([b.bob, b.cy])}
    added = client.post(f"/v1/users/{b.ada}/friends/{b.dee}")
    assert added.status_code == 200 and added.json()["friends"] == sorted([b.bob, b.cy, b.dee])
    assert client.post(f"/v1/users/{b.ada}/friends/{b.dee}").json()["friends"] == sorted([b.bob, b.cy, b.dee])
    assert client.delete(f"/v1/users/{b.ada}/friends/{b.bob}").status_code == 204
    assert client.delete(f"/v1/users/{b.ada}/friends/{b.bob}").status_code == 204  # gone already: fine
    assert client.get(f"/v1/users/{b.ada}/friends").json()["friends"] == sorted([b.cy, b.dee])
    assert put_friends(client, b.ada, [])["friends"] == []
    # Directed: ada's list is not bob's.
    assert client.get(f"/v1/users/{b.bob}/friends").json()["friends"] == []


def test_friends_board_ranks_the_user_and_their_friends(client: TestClient, b: BoardNames) -> None:
    make_board(client, b.arena)
    put_friends(client, b.ada, [b.bob, b.cy])
    submit_all(client, b.arena, {b.ada: 10, b.bob: 30, b.cy: 20, b.dee: 25, b.eve: 100})
    body = friends_board(client, b.arena, b.ada, [(b.bob, 30), (b.cy, 20), (b.ada, 10)])
    assert body == {
        "board": b.arena,
        "user_id": b.ada,
        "entries": [
            {"rank": 1, "user_id": b.bob, "score": 30, "global_rank": 2, **NO_DETAILS},
            {"rank": 2, "user_id": b.cy, "score": 20, "global_rank": 4, **NO_DETAILS},
            {"rank": 3, "user_id": b.ada, "score": 10, "global_rank": 5, **NO_DETAILS},
        ],
    }
    limited = client.get(f"/v1/boards/{b.arena}/users/{b.ada}/friends?limit=2").json()["entries"]
    assert [e["user_id"] for e in limited] == [b.bob, b.cy]
    # Someone not on ada's list has ada on theirs: not the same board.
    put_friends(client, b.dee, [b.ada])
    friends_board(client, b.arena, b.dee, [(b.dee, 25), (b.ada, 10)])


def test_score_changes_and_list_changes_update_friends_boards(client: TestClient, b: BoardNames) -> None:
    make_board(client, b.arena)
    put_friends(client, b.ada, [b.bob])
    submit_all(client, b.arena, {b.ada: 10, b.bob: 5, b.cy: 7})
    friends_board(client, b.arena, b.ada, [(b.ada, 10), (b.bob, 5)])
    submit_all(client, b.arena, {b.bob: 20})  # bob passes ada: fanned out to ada's board
    friends_board(client, b.arena, b.ada, [(b.bob, 25), (b.ada, 10)])
    client.post(f"/v1/users/{b.ada}/friends/{b.cy}")  # cy's existing total joins at once
    assert [e["user_id"] for e in client.get(f"/v1/boards/{b.arena}/users/{b.ada}/friends").json()["entries"]] == [
        b.bob,
        b.ada,
        b.cy,
    ]
    client.delete(f"/v1/users/{b.ada}/friends/{b.bob}")
    assert [e["user_id"] for e in client.get(f"/v1/boards/{b.arena}/users/{b.ada}/friends").json()["entries"]] == [
        b.ada,
        b.cy,
    ]
    assert client.delete(f"/v1/boards/{b.arena}/users/{b.cy}").status_code == 204  # removed from the board
    friends_board(client, b.arena, b.ada, [(b.ada, 10)])


def test_friends_board_of_a_user_with_no_score_or_friends_is_empty(client: TestClient, b: BoardNames) -> None:
    make_board(client, b.arena)
    answer = client.get(f"/v1/boards/{b.arena}/users/{b.ghost}/friends")
    assert answer.status_code == 200 and answer.json()["entries"] == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "missing_field"),
        ({"friends": ["x"], "more": 1}, "unknown_field"),
        ({"friends": "x"}, "invalid_friends"),
        ({"friends": [7]}, "invalid_friend_id"),
        ({"friends": ["bad id"]}, "invalid_friend_id"),
        ({"friends": ["x" * 129]}, "invalid_friend_id"),
        ({"friends": ["x", "x"]}, "duplicate_friend"),
        ({"friends": ["{me}"]}, "invalid_friend"),
        ({"friends": [f"f{i}" for i in range(1001)]}, "too_many_friends"),
        ([], "invalid_body"),
    ],
)
def test_bad_friend_lists_change_nothing(client: TestClient, b: BoardNames, body: Any, code: str) -> None:
    put_friends(client, b.me, [b.old])
    if isinstance(body, dict) and body.get("friends") == ["{me}"]:
        body = {"friends": [b.me]}
    assert_refused(client.put(f"/v1/users/{b.me}/friends", json=body), 400, code)
    assert client.get(f"/v1/users/{b.me}/friends").json()["friends"] == [b.old]


def test_bad_single_friend_changes_and_a_full_list(client: TestClient, b: BoardNames) -> None:
    put_friends(client, b.me, [f"{b.f}{i}" for i in range(1000)])  # the documented maximum
    assert_refused(client.post(f"/v1/users/{b.me}/friends/{b.extra}"), 409, "too_many_friends")
    assert_refused(client.post(f"/v1/users/{b.me}/friends/{b.me}"), 400, "invalid_friend")
    assert_refused(client.post(f"/v1/users/{b.me}/friends/bad%20id"), 400, "invalid_friend_id")
    assert_refused(client.delete(f"/v1/users/{b.me}/friends/bad%20id"), 400, "invalid_friend_id")
    assert_refused(client.get("/v1/users/bad%20id/friends"), 400, "invalid_user_id")
    friends = client.get(f"/v1/users/{b.me}/friends").json()["friends"]
    assert len(friends) == 1000 and b.extra not in friends


@pytest.mark.parametrize("query", ["limit=0", "limit=1002", "limit=x"])
def test_bad_friends_board_queries(client: TestClient, b: BoardNames, query: str) -> None:
    make_board(client, b.arena)
    assert_refused(client.get(f"/v1/boards/{b.arena}/users/{b.ada}/friends?{query}"), 400, "invalid_parameter")
    assert_refused(client.get(f"/v1/boards/nope-{b.arena}/users/{b.ada}/friends"), 404, "board_not_found")
