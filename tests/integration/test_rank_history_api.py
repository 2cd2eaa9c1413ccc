"""Rank history over HTTP, in both profiles (issue 22): a user who scored 20 times has the
history a plain replay of those submissions gives, newest first, paged by limit, from and
to; a windowed board's history is the current period's; an unknown board is a 404 and bad
parameters are 400s in the API's error shape."""

from __future__ import annotations

import random
import time
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import BoardNames


def replayed(rivals: dict[str, int], scores: list[int]) -> list[tuple[int, int]]:
    """The reference: (total, rank) after each of the hero's submissions to an `incr` board,
    the rivals having scored first (so a rival with an equal total ranks ahead)."""
    out, total = [], 0
    for score in scores:
        total += score
        out.append((total, 1 + sum(1 for r in rivals.values() if r >= total)))
    return out


def scored(client: TestClient, board: str, user: str, score: int) -> None:
    answer = client.post(f"/v1/boards/{board}/scores?wait=true", json={"user_id": user, "score": score})
    assert answer.status_code == 200, answer.text


def history(client: TestClient, board: str, user: str, **query: Any) -> list[dict[str, Any]]:
    answer = client.get(f"/v1/boards/{board}/users/{user}/history", params=query)
    assert answer.status_code == 200, answer.text
    points: list[dict[str, Any]] = answer.json()["points"]
    return points


def settled(client: TestClient, board: str, user: str, count: int) -> list[dict[str, Any]]:
    """The user's points once there are `count`: in the distributed profile a submission is
    answered once the rank index shows it, and the rank-worker writes the batch's points
    just after that write (their ranks are read with it)."""
    deadline = time.monotonic() + 10
    while len(points := history(client, board, user)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return points


def test_twenty_scores_have_the_history_a_replay_gives(client: TestClient, b: BoardNames) -> None:
    assert client.put(f"/v1/boards/{b.arena}", json={"windows": ["all", "day"]}).status_code == 201
    rivals = {f"rival{i}": 10 * i for i in range(1, 11)}
    for user, score in rivals.items():
        scored(client, b.arena, user, score)
    scores = [random.Random(22).randint(1, 9) for _ in range(20)]
    for score in scores:
        scored(client, b.arena, "hero", score)
    points = settled(client, b.arena, "hero", 20)
    expected = list(reversed(replayed(rivals, scores)))  # newest first
    assert [(p["score"], p["rank"]) for p in points] == expected
    at = [p["at_us"] for p in points]
    assert at == sorted(at, reverse=True)
    assert all(p["at"].endswith("Z") and "period" not in p for p in points)
    # The day window's current period saw the same submissions.
    daily = history(client, b.arena, "hero", window="day")
    assert [(p["score"], p["rank"]) for p in daily] == expected
    assert {p["period"] for p in daily} == {
        client.get(f"/v1/boards/{b.arena}/periods?window=day").json()["current"]["period"]
    }
    assert not any(p["final"] for p in daily)
    # limit, from and to page it.
    assert history(client, b.arena, "hero", limit=5) == points[:5]
    window = history(client, b.arena, "hero", **{"from": at[10], "to": at[3]})
    assert window == [p for p in points if at[10] <= p["at_us"] <= at[3]] and len(window) >= 8
    assert history(client, b.arena, "nobody") == []


def test_twenty_scores_in_one_batch_have_a_point_each(client: TestClient, b: BoardNames) -> None:
    """A game server sends the hero's twenty scores in one batch: the rank-worker sees them in
    one poll, where the index keeps only the newest; every change still has its point, with
    the rank the replay gives (nobody else moves in between)."""
    assert client.put(f"/v1/boards/{b.arena}", json={}).status_code == 201
    rivals = {f"rival{i}": 10 * i for i in range(1, 11)}
    for user, score in rivals.items():
        scored(client, b.arena, user, score)
    scores = [random.Random(23).randint(1, 9) for _ in range(20)]
    body = {"scores": [{"user_id": "hero", "score": s} for s in scores]}
    answer = client.post(f"/v1/boards/{b.arena}/scores/batch?wait=true", json=body)
    assert answer.status_code == 200, answer.text
    points = settled(client, b.arena, "hero", 20)
    assert [(p["score"], p["rank"]) for p in points] == list(reversed(replayed(rivals, scores)))


def test_unknown_boards_and_bad_parameters_are_refused(client: TestClient, b: BoardNames) -> None:
    missing = client.get(f"/v1/boards/{b.missing}/users/ada/history")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "board_not_found"
    assert client.put(f"/v1/boards/{b.arena}", json={}).status_code == 201
    for query, code in [
        ({"limit": "0"}, "invalid_parameter"),
        ({"limit": "many"}, "invalid_parameter"),
        ({"from": "-1"}, "invalid_parameter"),
        ({"from": "20", "to": "10"}, "invalid_parameter"),
        ({"window": "week"}, "unknown_window"),
    ]:
        answer = client.get(f"/v1/boards/{b.arena}/users/ada/history", params=query)
        assert answer.status_code == 400, (query, answer.text)
        assert answer.json()["error"]["code"] == code, query
