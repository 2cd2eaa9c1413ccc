"""Cohorts and tiers over HTTP, in both profiles (issue 22): `cohort_size` fixed at creation
(422 to change it or to set a bad one), each new user placed in the first cohort with room in
arrival order and exactly N a cohort under concurrent first scores, a seat given up by a
user removed (from the board, or everywhere for privacy) taken by the next new user, reads ranked within a
cohort with `cohort=me|<n>` (400 for me without a user, 404 for an unknown cohort), a user's
entry showing its cohort, `tiers` on every entry (within the cohort when there is one), and
the live stream following a cohort like a board."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import msgspec
from starlette.testclient import TestClient

from podium.api.contract.live import LiveFrame
from tests.conftest import BoardNames
from tests.integration.test_api import core, submit


def made(client: TestClient, board: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.put(f"/v1/boards/{board}", json=body)
    assert answer.status_code == 201, answer.text
    shown: dict[str, Any] = answer.json()
    return shown


def read(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    answer = client.get(path, params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def refused(answer: Any, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code, answer.text


def test_a_cohort_size_is_shown_fixed_and_checked(client: TestClient, b: BoardNames) -> None:
    shown = made(client, b.league, {"cohort_size": 3})
    assert shown["cohort_size"] == 3 and "tiers" not in shown
    assert read(client, f"/v1/boards/{b.league}")["cohort_size"] == 3
    assert client.put(f"/v1/boards/{b.league}", json={"cohort_size": 3}).status_code == 200  # the same again
    assert client.put(f"/v1/boards/{b.league}", json={"cohort_size": 4}).status_code == 409
    refused(client.patch(f"/v1/boards/{b.league}", json={"cohort_size": 4}), 422, "immutable_setting")
    refused(client.patch(f"/v1/boards/{b.league}", json={"cohort_size": None}), 422, "immutable_setting")
    for bad in (0, 1, 10_001, "ten", 2.5):
        refused(client.put(f"/v1/boards/{b.bad}", json={"cohort_size": bad}), 422, "invalid_cohort_size")
    assert client.get(f"/v1/boards/{b.bad}").status_code == 404  # nothing was made
    plain = made(client, b.plain, {})
    assert "cohort_size" not in plain and "tiers" not in plain  # every other board reads as before


def test_bad_tiers_are_a_422_and_tiers_may_change(client: TestClient, b: BoardNames) -> None:
    for tiers in (
        [{"name": "gold"}],
        [{"name": "gold", "min_score": 1, "top_percent": 5}],
        [{"name": "gold", "top_percent": 0}],
        [{"name": "gold", "top_percent": 120}],
        [{"name": "gold", "min_score": 1}, {"name": "gold", "min_score": 2}],
        [{"name": "gold", "min_score": 1, "badge": "x"}],
    ):
        refused(client.put(f"/v1/boards/{b.bad}", json={"tiers": tiers}), 422, "invalid_tiers")
    tiers = [{"name": "gold", "min_score": 100}, {"name": "silver", "top_percent": 50}]
    assert made(client, b.arena, {"tiers": tiers})["tiers"] == tiers
    changed = client.patch(f"/v1/boards/{b.arena}", json={"tiers": [{"name": "all", "top_percent": 100}]})
    assert changed.status_code == 200 and changed.json()["tiers"] == [{"name": "all", "top_percent": 100}]
    refused(client.patch(f"/v1/boards/{b.arena}", json={"tiers": [{"name": "x"}]}), 422, "invalid_tiers")
    cleared = client.patch(f"/v1/boards/{b.arena}", json={"tiers": []})
    assert cleared.status_code == 200 and "tiers" not in cleared.json()


def test_new_users_fill_cohorts_in_arrival_order_and_reads_rank_within_one(client: TestClient, b: BoardNames) -> None:
    made(client, b.league, {"cohort_size": 2})
    scores = {"u1": 10, "u2": 50, "u3": 30, "u4": 20, "u5": 5}
    for user, score in scores.items():  # one after another: arrival order is this order
        submit(client, b.league, user, score)
    submit(client, b.league, "u1", 100)  # a returning user stays in its cohort
    users = f"/v1/boards/{b.league}/users"
    assert [read(client, f"{users}/{u}")["cohort"] for u in scores] == [1, 1, 2, 2, 3]
    whole = read(client, f"/v1/boards/{b.league}/top", limit=10)
    assert [e["user_id"] for e in whole["entries"]] == ["u1", "u2", "u3", "u4", "u5"] and "cohort" not in whole
    second = read(client, f"/v1/boards/{b.league}/top", cohort="2")
    assert second["cohort"] == 2 and second["users"] == 2
    assert [core(e) for e in second["entries"]] == [
        {"rank": 1, "user_id": "u3", "score": 30},
        {"rank": 2, "user_id": "u4", "score": 20},
    ]
    mine = read(client, f"/v1/boards/{b.league}/top", cohort="me", user_id="u4")
    assert mine["entries"] == second["entries"]
    assert read(client, f"/v1/boards/{b.league}/top", cohort="2", offset=1, limit=1)["entries"] == second["entries"][1:]
    own = read(client, f"{users}/u4", cohort="me")
    assert core(own) == {"rank": 2, "user_id": "u4", "score": 20}
    assert own["cohort"] == 2 and own["users"] == 2 and own["percentile"] == 50.0
    assert read(client, f"{users}/u4")["rank"] == 4  # without cohort=: the whole board
    around = read(client, f"{users}/u2/around", cohort="me", radius=5)
    assert around["cohort"] == 1 and [core(e) for e in around["entries"]] == [
        {"rank": 1, "user_id": "u1", "score": 110},
        {"rank": 2, "user_id": "u2", "score": 50},
    ]
    refused(client.get(f"/v1/boards/{b.league}/top", params={"cohort": "me"}), 400, "cohort_needs_user")
    refused(client.get(f"/v1/boards/{b.league}/top", params={"cohort": "9"}), 404, "unknown_cohort")
    refused(client.get(f"{users}/u1", params={"cohort": "3"}), 404, "user_not_found")  # u1 is in cohort 1
    refused(client.get(f"{users}/nobody", params={"cohort": "me"}), 404, "unknown_cohort")
    assert client.get(f"/v1/boards/{b.league}/top", params={"cohort": "0"}).status_code == 400
    # An empty cohort= is refused as the document's pattern says, not read as the whole board.
    refused(client.get(f"/v1/boards/{b.league}/top", params={"cohort": ""}), 400, "invalid_cohort")
    made(client, b.plain, {})
    refused(client.get(f"/v1/boards/{b.plain}/top", params={"cohort": "1"}), 400, "no_cohorts")


def test_cohorts_rank_every_window_and_follow_the_tie_rule(client: TestClient, b: BoardNames) -> None:
    made(client, b.league, {"cohort_size": 3, "windows": ["all", "week"], "tie": "competition"})
    for user, score in (("a", 7), ("b", 9), ("c", 7), ("d", 1)):
        submit(client, b.league, user, score)
    weekly = read(client, f"/v1/boards/{b.league}/top", cohort="1", window="week")
    assert weekly["window"] == "week" and [core(e) for e in weekly["entries"]] == [
        {"rank": 1, "user_id": "b", "score": 9},
        {"rank": 2, "user_id": "a", "score": 7},
        {"rank": 2, "user_id": "c", "score": 7},
    ]
    assert read(client, f"/v1/boards/{b.league}/users/c", cohort="me")["percentile"] == 66.67


def test_tiers_are_on_every_entry_and_within_the_cohort(client: TestClient, b: BoardNames) -> None:
    tiers = [{"name": "gold", "top_percent": 25}, {"name": "silver", "min_score": 20}]
    made(client, b.league, {"cohort_size": 4, "tiers": tiers})
    for i, score in enumerate((40, 30, 20, 10, 35, 5, 1, 2)):  # cohort 1: u0..u3, cohort 2: u4..u7
        submit(client, b.league, f"u{i}", score)
    whole = read(client, f"/v1/boards/{b.league}/top", limit=8)["entries"]
    # 8 users, top 25% = 2 places: u0 and u4 gold; at least 20: silver; the rest none.
    assert [(e["user_id"], e["tier"]) for e in whole] == [
        ("u0", "gold"),
        ("u4", "gold"),
        ("u1", "silver"),
        ("u2", "silver"),
        ("u3", None),
        ("u5", None),
        ("u7", None),
        ("u6", None),
    ]
    second = read(client, f"/v1/boards/{b.league}/top", cohort="2")["entries"]
    # Within cohort 2 (4 users, 1 place at 25%): only u4 is gold; nobody else reaches 20.
    assert [(e["user_id"], e["tier"]) for e in second] == [("u4", "gold"), ("u5", None), ("u7", None), ("u6", None)]
    assert read(client, f"/v1/boards/{b.league}/users/u1")["tier"] == "silver"
    assert read(client, f"/v1/boards/{b.league}/users/u1", cohort="me")["tier"] == "silver"
    around = read(client, f"/v1/boards/{b.league}/users/u3/around", radius=1)["entries"]
    assert [e["tier"] for e in around] == ["silver", None, None]
    made(client, b.plain, {})
    submit(client, b.plain, "ann", 3)
    assert "tier" not in read(client, f"/v1/boards/{b.plain}/top")["entries"][0]  # no tiers: no field


def test_concurrent_first_scores_make_cohorts_of_exactly_n(client: TestClient, b: BoardNames) -> None:
    size, users = 4, 26
    made(client, b.league, {"cohort_size": size})

    def first_score(i: int) -> int:
        body = {"user_id": f"p{i}", "score": i, "key": f"first-{i}"}  # keys are per board
        sent = client.post(f"/v1/boards/{b.league}/scores", json=body).status_code
        again = client.post(f"/v1/boards/{b.league}/scores?wait=true", json=body).status_code  # a client retry
        return sent if sent != 202 else again

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(first_score, range(users))) == {200}
    cohorts = {f"p{i}": read(client, f"/v1/boards/{b.league}/users/p{i}")["cohort"] for i in range(users)}
    full, rest = divmod(users, size)
    assert Counter(cohorts.values()) == Counter({c: size for c in range(1, full + 1)} | {full + 1: rest})
    for number in range(1, full + 2):
        page = read(client, f"/v1/boards/{b.league}/top", cohort=str(number), limit=100)
        assert {e["user_id"] for e in page["entries"]} == {u for u, c in cohorts.items() if c == number}


def test_the_live_stream_follows_a_cohort(client: TestClient, b: BoardNames) -> None:
    made(client, b.league, {"cohort_size": 2})
    for user, score in (("ann", 5), ("bob", 3), ("cy", 9), ("dee", 1)):  # ann, bob: 1; cy, dee: 2
        submit(client, b.league, user, score)
    with client.websocket_connect(f"/v1/boards/{b.league}/live?cohort=me&user_id=bob&top=5") as ws:
        snapshot = ws.receive_json()
        msgspec.convert(snapshot, LiveFrame, strict=True)
        assert snapshot["type"] == "snapshot" and snapshot["cohort"] == 1
        assert [core(e) for e in snapshot["top"]] == [
            {"rank": 1, "user_id": "ann", "score": 5},
            {"rank": 2, "user_id": "bob", "score": 3},
        ]
        submit(client, b.league, "cy", 100)  # another cohort's: not sent
        submit(client, b.league, "bob", 10)  # bob passes ann within the cohort (13 > 5)
        deadline = time.monotonic() + 20
        frame = ws.receive_json()
        while frame["type"] != "delta":
            assert time.monotonic() < deadline
            frame = ws.receive_json()
        msgspec.convert(frame, LiveFrame, strict=True)
        assert frame["cohort"] == 1
        assert [(c["user_id"], c["score"], c["rank"]) for c in frame["changes"]] == [("bob", 13, 1)]
        assert [core(e) for e in frame["top"]] == [
            {"rank": 1, "user_id": "bob", "score": 13},
            {"rank": 2, "user_id": "ann", "score": 5},
        ]
        assert core(frame["me"]) == {"rank": 1, "user_id": "bob", "score": 13}
    refused(client.get(f"/v1/boards/{b.league}/events", params={"cohort": "7"}), 404, "unknown_cohort")


def gone(client: TestClient, user_path: str) -> None:
    """Wait until the user's removal is applied: the db-worker applies it, maybe from another
    log partition than the next user's score, which must come after it."""
    deadline = time.monotonic() + 30
    while client.get(user_path).status_code != 404 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.get(user_path).status_code == 404


def test_a_removed_user_gives_its_seat_to_the_next_new_user(client: TestClient, b: BoardNames) -> None:
    made(client, b.league, {"cohort_size": 2, "windows": ["all", "week"]})
    ann, bob, cy, fay, dee, eve = b.ann, b.bob, b.cy, b.fay, b.dee, b.eve  # user ids of this test's own
    for user, score in ((ann, 10), (bob, 20), (cy, 30), (fay, 35)):
        submit(client, b.league, user, score)
    forgotten = client.delete(f"/v1/users/{ann}")  # a privacy delete: from every board and period
    assert forgotten.status_code in (200, 202), forgotten.text  # 202: accepted, not yet visible
    users = f"/v1/boards/{b.league}/users"
    gone(client, f"{users}/{ann}")  # applied (the seat is given up first), before dee comes
    submit(client, b.league, dee, 40)
    assert [read(client, f"{users}/{u}")["cohort"] for u in (bob, cy, fay, dee)] == [1, 2, 2, 1]  # ann's seat
    first = read(client, f"/v1/boards/{b.league}/top", cohort="1")
    assert [e["user_id"] for e in first["entries"]] == [dee, bob] and first["users"] == 2
    assert client.delete(f"{users}/{cy}").status_code == 204  # removed from this board alone
    gone(client, f"{users}/{cy}")
    submit(client, b.league, eve, 50)
    assert read(client, f"{users}/{eve}")["cohort"] == 2  # cy's seat
    submit(client, b.league, ann, 5)  # back after the delete: a new user, in the next cohort with room
    assert read(client, f"{users}/{ann}")["cohort"] == 3
    assert [e["user_id"] for e in read(client, f"/v1/boards/{b.league}/top", cohort="2")["entries"]] == [eve, fay]
