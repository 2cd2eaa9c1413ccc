"""Issue 7's board semantics and queries through the HTTP API, in both profiles: operators
and overrides, tie policies, subscores, details, lookups, ranges, percentiles, cursors,
wait answers, board admin and time windows with exact resets."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

import podium.pipeline.ingest
import podium.usecases.period_boards
from tests.conftest import BoardNames
from tests.integration.test_api import core


def put(client: TestClient, board: str, **settings: Any) -> dict[str, Any]:
    answer = client.put(f"/v1/boards/{board}", json=settings)
    assert answer.status_code in (200, 201), answer.text
    body: dict[str, Any] = answer.json()
    return body


def send(client: TestClient, board: str, user: str, score: int, **extra: Any) -> dict[str, Any]:
    answer = client.post(f"/v1/boards/{board}/scores?wait=true", json={"user_id": user, "score": score, **extra})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def batch(client: TestClient, board: str, scores: dict[str, int]) -> None:
    items = [{"user_id": u, "score": s} for u, s in scores.items()]
    answer = client.post(f"/v1/boards/{board}/scores/batch?wait=true", json={"scores": items})
    assert answer.status_code == 200, answer.text


def ranks_of(client: TestClient, path: str) -> list[tuple[int, str, int]]:
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    return [(e["rank"], e["user_id"], e["score"]) for e in answer.json()["entries"]]


def refused(answer: Any, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code


def test_decr_and_an_allowed_override(client: TestClient, b: BoardNames) -> None:
    put(client, b.fuel, operator="decr", allow_operator_override=True)
    assert send(client, b.fuel, "ada", 5)["score"] == -5  # from nothing, no floor
    assert send(client, b.fuel, "ada", 3)["score"] == -8
    assert send(client, b.fuel, "ada", 20, operator="incr")["score"] == 12
    put(client, b.strict)
    before = client.get(f"/v1/boards/{b.strict}").json()
    refused(
        client.post(f"/v1/boards/{b.strict}/scores", json={"user_id": "ada", "score": 1, "operator": "set"}),
        400,
        "operator_override_not_allowed",
    )
    assert client.get(f"/v1/boards/{b.strict}").json() == before


@pytest.mark.parametrize(
    ("tie", "want"),
    [
        ("unique", [1, 2, 3, 4, 5]),
        ("competition", [1, 2, 2, 4, 4]),
        ("dense", [1, 2, 2, 3, 3]),
    ],
)
def test_tie_policies_number_top_around_user_and_lookup_alike(
    client: TestClient, b: BoardNames, tie: str, want: list[int]
) -> None:
    put(client, b.arena, tie=tie)
    for user, score in [("a", 9), ("b", 7), ("c", 7), ("d", 5), ("e", 5)]:
        send(client, b.arena, user, score)
    assert [r for r, _, _ in ranks_of(client, f"/v1/boards/{b.arena}/top")] == want
    assert [r for r, _, _ in ranks_of(client, f"/v1/boards/{b.arena}/top?offset=2&limit=2")] == want[2:4]
    assert [r for r, _, _ in ranks_of(client, f"/v1/boards/{b.arena}/users/e/around?radius=1")] == want[3:5]
    assert client.get(f"/v1/boards/{b.arena}/users/c").json()["rank"] == want[2]
    found = client.post(f"/v1/boards/{b.arena}/users/lookup", json={"user_ids": ["e", "c"]}).json()
    assert [(e["user_id"], e["rank"]) for e in found["entries"]] == [("c", want[2]), ("e", want[4])]
    assert client.get(f"/v1/boards/{b.arena}/top?offset=5").json()["entries"] == []  # a page past the end


def test_the_subscore_breaks_ties_before_time(client: TestClient, b: BoardNames) -> None:
    put(client, b.race, order="asc", operator="best", subscore_order="desc")
    send(client, b.race, "first", 60, subscore=1)
    send(client, b.race, "second", 60, subscore=5)  # same time, more laps: ahead despite coming later
    send(client, b.race, "third", 61, subscore=9)
    top = client.get(f"/v1/boards/{b.race}/top").json()["entries"]
    assert [(e["user_id"], e["subscore"]) for e in top] == [("second", 5), ("first", 1), ("third", 9)]
    assert send(client, b.race, "first", 60, subscore=7)["rank"] == 1  # best pair: the subscore counts
    no_sub = b.plain
    put(client, no_sub)
    refused(
        client.post(f"/v1/boards/{no_sub}/scores", json={"user_id": "x", "score": 1, "subscore": 2}), 400, "no_subscore"
    )


def test_details_are_returned_and_limited(client: TestClient, b: BoardNames) -> None:
    put(client, b.arena)
    got = send(client, b.arena, "ada", 5, display_name="Ada L.", metadata={"car": "red", "laps": [1, 2]})
    assert (got["display_name"], got["metadata"]) == ("Ada L.", {"car": "red", "laps": [1, 2]})
    send(client, b.arena, "ada", 1)  # no details sent: the entry keeps them
    top = client.get(f"/v1/boards/{b.arena}/top").json()["entries"]
    assert (top[0]["display_name"], top[0]["metadata"]) == ("Ada L.", {"car": "red", "laps": [1, 2]})
    with client.websocket_connect(f"/v1/boards/{b.arena}/live?top=3") as ws:  # live frames carry them too
        assert ws.receive_json()["top"][0]["metadata"] == {"car": "red", "laps": [1, 2]}
    for bad, code in (
        ({"metadata": [1]}, "invalid_metadata"),
        ({"metadata": {"x": "y" * 3000}}, "metadata_too_large"),
        ({"display_name": ""}, "invalid_display_name"),
        ({"display_name": "a\u0000b"}, "invalid_display_name"),
        ({"display_name": "x" * 65}, "invalid_display_name"),
    ):
        refused(client.post(f"/v1/boards/{b.arena}/scores", json={"user_id": "bob", "score": 1, **bad}), 400, code)
    assert client.get(f"/v1/boards/{b.arena}/users/bob").status_code == 404


def test_lookup_in_board_or_input_order_lists_the_missing(client: TestClient, b: BoardNames) -> None:
    put(client, b.arena)
    batch(client, b.arena, {"a": 30, "b": 20, "c": 10})
    body = {"user_ids": ["c", "ghost", "a", "c"], "order": "input"}
    found = client.post(f"/v1/boards/{b.arena}/users/lookup", json=body).json()
    assert [e["user_id"] for e in found["entries"]] == ["c", "a"] and found["missing"] == ["ghost"]
    found = client.post(f"/v1/boards/{b.arena}/users/lookup", json={"user_ids": ["c", "a"]}).json()
    assert [e["user_id"] for e in found["entries"]] == ["a", "c"]
    refused(client.post(f"/v1/boards/{b.arena}/users/lookup", json={"user_ids": []}), 400, "invalid_user_ids")
    too_many = {"user_ids": [f"u{i}" for i in range(101)]}
    refused(client.post(f"/v1/boards/{b.arena}/users/lookup", json=too_many), 400, "invalid_user_ids")


@pytest.mark.parametrize("order", ["desc", "asc"])
def test_score_ranges_counts_percentiles_and_the_score_for_a_rank(
    client: TestClient, b: BoardNames, order: str
) -> None:
    put(client, b.arena, order=order)
    batch(client, b.arena, {f"u{i}": i * 10 for i in range(10)})  # 0, 10, …, 90
    count = client.get(f"/v1/boards/{b.arena}/count?min=20&max=50").json()
    assert count["count"] == 4
    inside = client.get(f"/v1/boards/{b.arena}/range?min=20&max=50").json()
    scores = [e["score"] for e in inside["entries"]]
    assert scores == ([50, 40, 30, 20] if order == "desc" else [20, 30, 40, 50]) and inside["count"] == 4
    assert client.get(f"/v1/boards/{b.arena}/count?min=91").json()["count"] == 0
    assert client.get(f"/v1/boards/{b.arena}/count").json()["count"] == 10
    refused(client.get(f"/v1/boards/{b.arena}/count?min=5&max=1"), 400, "invalid_range")
    best = "u9" if order == "desc" else "u0"
    worst = "u0" if order == "desc" else "u9"
    assert client.get(f"/v1/boards/{b.arena}/users/{best}").json()["percentile"] == 100.0
    assert client.get(f"/v1/boards/{b.arena}/users/{worst}").json()["percentile"] == 10.0
    third = client.get(f"/v1/boards/{b.arena}/score-for-rank?rank=3").json()
    assert third["score"] == (70 if order == "desc" else 20)
    assert third["needed"] == (71 if order == "desc" else 19)  # unique ties: equal is not enough
    assert client.get(f"/v1/boards/{b.arena}/score-for-rank?rank=11").json()["score"] is None


def test_cursor_pages_stay_consistent_while_scores_change(client: TestClient, b: BoardNames) -> None:
    put(client, b.arena)
    batch(client, b.arena, {f"u{i}": 100 - i for i in range(10)})
    first = client.get(f"/v1/boards/{b.arena}/top?limit=4").json()
    assert [e["user_id"] for e in first["entries"]] == ["u0", "u1", "u2", "u3"]
    send(client, b.arena, "u9", 1000)  # a user below the cursor jumps to the top meanwhile
    second = client.get(f"/v1/boards/{b.arena}/top?limit=4&cursor={first['next_cursor']}").json()
    assert [e["user_id"] for e in second["entries"]] == ["u4", "u5", "u6", "u7"]  # nobody twice, nobody skipped
    last = client.get(f"/v1/boards/{b.arena}/top?limit=4&cursor={second['next_cursor']}").json()
    assert [e["user_id"] for e in last["entries"]] == ["u8"] and last["next_cursor"] is None
    refused(client.get(f"/v1/boards/{b.arena}/top?cursor=nonsense"), 400, "invalid_cursor")
    refused(client.get(f"/v1/boards/{b.arena}/top?cursor={first['next_cursor']}&offset=1"), 400, "invalid_parameter")


@pytest.mark.parametrize("tie", ["unique", "competition", "dense"])
def test_cursor_pages_a_board_with_a_subscore(client: TestClient, b: BoardNames, tie: str) -> None:
    """Issue 17: the cursor of a board with a subscore holds a tie-break past 64 bits."""
    put(client, b.arena, subscore_order="desc", operator="best", tie=tie)
    items = [
        {"user_id": "a", "score": 10, "subscore": 2},
        {"user_id": "b", "score": 10, "subscore": 2},
        {"user_id": "c", "score": 7},
        {"user_id": "d", "score": 7},
        {"user_id": "e", "score": 1},
    ]
    answer = client.post(f"/v1/boards/{b.arena}/scores/batch?wait=true", json={"scores": items})
    assert answer.status_code == 200, answer.text
    whole = ranks_of(client, f"/v1/boards/{b.arena}/top")
    walked: list[tuple[int, str, int]] = []
    page = client.get(f"/v1/boards/{b.arena}/top?limit=1").json()
    while True:
        walked += [(e["rank"], e["user_id"], e["score"]) for e in page["entries"]]
        if page["next_cursor"] is None or len(walked) > len(whole):
            break
        answer = client.get(f"/v1/boards/{b.arena}/top?limit=1&cursor={page['next_cursor']}")
        assert answer.status_code == 200, answer.text
        page = answer.json()
    assert walked == whole and [u for _, u, _ in whole] == ["a", "b", "c", "d", "e"]


def test_lookup_in_board_order_lists_equals_as_top_does(client: TestClient, b: BoardNames) -> None:
    """Issue 17: among users sharing a rank, who reached the total first, not the user id."""
    put(client, b.arena, tie="competition")
    for user in ("zed", "max", "amy"):
        send(client, b.arena, user, 5)
    send(client, b.arena, "bo", 9)
    top = ranks_of(client, f"/v1/boards/{b.arena}/top")
    assert top == [(1, "bo", 9), (2, "zed", 5), (2, "max", 5), (2, "amy", 5)]
    body = {"user_ids": ["amy", "max", "zed", "bo"], "order": "board"}
    found = client.post(f"/v1/boards/{b.arena}/users/lookup", json=body).json()
    assert [(e["rank"], e["user_id"], e["score"]) for e in found["entries"]] == top


def test_score_for_a_rank_that_shared_ranks_skip(client: TestClient, b: BoardNames) -> None:
    """Issue 17: with 50, 50, 50, 30 under competition ties, rank 3 takes 50, not 30."""
    put(client, b.arena, tie="competition")
    batch(client, b.arena, {"a": 50, "b": 50, "c": 50, "d": 30})
    third = client.get(f"/v1/boards/{b.arena}/score-for-rank?rank=3").json()
    assert (third["score"], third["beat"], third["needed"]) == (50, 51, 50)
    assert send(client, b.arena, "late", 49)["rank"] == 4  # one less than needed does not take it
    assert send(client, b.arena, "new", 50)["rank"] == 1
    # A rank past everyone: any total takes it.
    assert client.get(f"/v1/boards/{b.arena}/score-for-rank?rank=9").json()["needed"] == -(2**53 - 1)
    refused(client.get(f"/v1/boards/{b.arena}/score-for-rank?rank=1&subscore=1"), 400, "no_subscore")


def test_score_for_a_rank_counts_the_subscore_asked(client: TestClient, b: BoardNames) -> None:
    put(client, b.arena, tie="competition", subscore_order="desc")
    items = [{"user_id": u, "score": 50, "subscore": s} for u, s in [("a", 5), ("b", 3), ("c", 3)]]
    assert client.post(f"/v1/boards/{b.arena}/scores/batch?wait=true", json={"scores": items}).status_code == 200
    # Rank 3 is c's place (rank 2, shared with b): 50 with a subscore of 3 or more shares it.
    at = client.get(f"/v1/boards/{b.arena}/score-for-rank?rank=3&subscore=3").json()
    assert (at["score"], at["beat"], at["needed"]) == (50, 51, 50)
    assert client.get(f"/v1/boards/{b.arena}/score-for-rank?rank=3").json()["needed"] == 51  # subscore 0
    assert send(client, b.arena, "new", 50, subscore=3)["rank"] == 2


def test_wait_answers_previous_new_and_personal_best(client: TestClient, b: BoardNames) -> None:
    put(client, b.arena, operator="set")
    batch(client, b.arena, {"bob": 50, "cy": 40})
    first = send(client, b.arena, "ada", 45)
    assert (first["previous"], first["rank"], first["personal_best"]) == ({"rank": None, "score": None}, 2, True)
    worse = send(client, b.arena, "ada", 30)
    assert (worse["previous"], worse["rank"], worse["personal_best"]) == ({"rank": 2, "score": 45}, 3, False)
    again = send(client, b.arena, "ada", 45)  # equals the best: not a new one
    assert again["personal_best"] is False
    better = send(client, b.arena, "ada", 60)
    assert (better["previous"], better["rank"], better["personal_best"]) == ({"rank": 2, "score": 45}, 1, True)


def test_board_admin_patch_list_and_delete(client: TestClient, b: BoardNames) -> None:
    put(client, b.arena, windows=["all", "day"])
    send(client, b.arena, "ada", 5)
    patched = client.patch(f"/v1/boards/{b.arena}", json={"keep_periods": 3, "allow_operator_override": True})
    assert patched.status_code == 200 and patched.json()["keep_periods"] == 3
    refused(client.patch(f"/v1/boards/{b.arena}", json={"order": "asc"}), 400, "immutable_setting")
    refused(client.patch(f"/v1/boards/{b.arena}", json={"keep_periods": -1}), 400, "invalid_keep_periods")
    refused(client.patch(f"/v1/boards/{b.arena}", json={"windows": [{}]}), 400, "invalid_window")
    assert client.get(f"/v1/boards/{b.arena}").json()["keep_periods"] == 3
    assert b.arena in client.get("/v1/boards").json()["boards"]
    assert client.delete(f"/v1/boards/{b.arena}").status_code == 204
    assert client.get(f"/v1/boards/{b.arena}").status_code == 404
    assert b.arena not in client.get("/v1/boards").json()["boards"]
    # A board made again under the name starts empty, in every window.
    put(client, b.arena, windows=["all", "day"])
    assert client.get(f"/v1/boards/{b.arena}/top").json()["entries"] == []
    assert client.get(f"/v1/boards/{b.arena}/top?window=day").json()["entries"] == []


def test_an_empty_board_answers_every_read(client: TestClient, b: BoardNames) -> None:
    put(client, b.empty, tie="dense")
    assert client.get(f"/v1/boards/{b.empty}/top").json() == {
        "board": b.empty,
        "users": 0,
        "entries": [],
        "next_cursor": None,
    }
    assert client.get(f"/v1/boards/{b.empty}/count").json()["count"] == 0
    assert client.get(f"/v1/boards/{b.empty}/range?min=0").json()["entries"] == []
    assert client.get(f"/v1/boards/{b.empty}/score-for-rank?rank=1").json()["score"] is None
    assert client.post(f"/v1/boards/{b.empty}/users/lookup", json={"user_ids": ["x"]}).json()["missing"] == ["x"]


def at(monkeypatch: pytest.MonkeyPatch, now_us: int) -> None:
    """Stamp submissions, and read current periods, as of `now_us`."""
    monkeypatch.setattr(podium.pipeline.ingest.Clock, "now_us", lambda self: now_us)
    monkeypatch.setattr(podium.usecases.period_boards, "now_us", lambda: now_us)


# 2026-11-30 00:00 in Paris (a Monday: a new day and a new ISO week) is 2026-11-29 23:00 UTC.
RESET_US = 1_795_993_200_000_000


def test_windows_reset_at_the_exact_instant_and_keep_past_periods(
    client: TestClient, b: BoardNames, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(client, b.season, windows=["all", "day", "week"], timezone="Europe/Paris", keep_periods=2)
    at(monkeypatch, RESET_US - 1)
    before = send(client, b.season, "ada", 10)
    assert before["windows"]["day"]["period"] == "2026-11-29"
    assert before["windows"]["week"]["period"] == "2026-W48"
    send(client, b.season, "bob", 7)
    at(monkeypatch, RESET_US)  # exactly the reset: the new period's
    after = send(client, b.season, "ada", 5)
    assert after["score"] == 15  # all-time
    assert (after["windows"]["day"]["period"], after["windows"]["day"]["score"]) == ("2026-11-30", 5)
    assert after["windows"]["day"]["personal_best"] is True  # a first score in the new period
    assert after["windows"]["week"]["period"] == "2026-W49"
    assert ranks_of(client, f"/v1/boards/{b.season}/top?window=day") == [(1, "ada", 5)]
    assert ranks_of(client, f"/v1/boards/{b.season}/top?window=day&period=2026-11-29") == [
        (1, "ada", 10),
        (2, "bob", 7),
    ]
    assert ranks_of(client, f"/v1/boards/{b.season}/top") == [(1, "ada", 15), (2, "bob", 7)]
    assert client.get(f"/v1/boards/{b.season}/users/bob?window=day").status_code == 404
    periods = client.get(f"/v1/boards/{b.season}/periods?window=day").json()
    assert periods["current"]["period"] == "2026-11-30" and periods["current"]["start_us"] == RESET_US
    assert [p["period"] for p in periods["kept"]] == ["2026-11-29", "2026-11-28"]
    # Older than kept, not begun, not a window of this board, not a period id.
    refused(client.get(f"/v1/boards/{b.season}/top?window=day&period=2026-11-27"), 404, "period_not_kept")
    refused(client.get(f"/v1/boards/{b.season}/top?window=day&period=2026-12-01"), 400, "invalid_period")
    refused(client.get(f"/v1/boards/{b.season}/top?window=month"), 400, "unknown_window")
    refused(client.get(f"/v1/boards/{b.season}/top?window=day&period=yesterday"), 400, "invalid_period")


def test_windows_refuse_bad_settings(client: TestClient, b: BoardNames) -> None:
    for settings, code in (
        ({"windows": ["hourly"]}, "invalid_window"),
        ({"windows": ["cron:0 0 30 2 *"]}, "invalid_window"),  # never fires
        ({"windows": []}, "invalid_windows"),
        ({"windows": ["all", "all"]}, "invalid_windows"),
        ({"windows": [{}]}, "invalid_window"),  # not a string: was a 500 (found by the OpenAPI fuzz test)
        ({"windows": ["all", ["day"]]}, "invalid_window"),
        ({"timezone": "Mars/Olympus"}, "invalid_timezone"),
        ({"keep_periods": 1000}, "invalid_keep_periods"),
    ):
        refused(client.put(f"/v1/boards/{b.bad}", json=settings), 400, code)
    assert client.get(f"/v1/boards/{b.bad}").status_code == 404
    cron = put(client, b.hourly, windows=["cron:0 * * * *"])
    assert cron["windows"] == ["cron:0 * * * *"]


def test_a_cron_window_feeds_its_period(client: TestClient, b: BoardNames, monkeypatch: pytest.MonkeyPatch) -> None:
    put(client, b.hourly, windows=["cron:0 */6 * * *"], timezone="UTC")
    at(monkeypatch, RESET_US + 3 * 3600 * 1_000_000)  # 02:00 UTC on the 30th: the 00:00 period
    got = send(client, b.hourly, "ada", 3)
    assert got["windows"]["cron:0 */6 * * *"]["period"] == "2026-11-30T00:00"
    assert core(got) == {"rank": 1, "user_id": "ada", "score": 3}  # its only window is the default
    assert ranks_of(client, f"/v1/boards/{b.hourly}/top") == [(1, "ada", 3)]


def test_a_full_batch_waits_for_every_user_in_every_window(client: TestClient, b: BoardNames) -> None:
    # 1,000 users × 2 windows: the answer's reads stay within a connection pool's size.
    put(client, b.big, windows=["all", "day"])
    items = [{"user_id": f"u{i:04d}", "score": i} for i in range(1000)]
    answer = client.post(f"/v1/boards/{b.big}/scores/batch?wait=true", json={"scores": items})
    assert answer.status_code == 200, answer.text[:300]
    results = answer.json()["results"]
    assert len(results) == 1000 and results[-1]["rank"] == 1 and results[0]["rank"] == 1000
    assert results[0]["windows"]["day"]["rank"] == 1000
