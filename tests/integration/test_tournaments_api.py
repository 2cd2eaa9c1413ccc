"""Tournaments over HTTP, in both profiles (issue 22): joins first come first served up to
the size (409 full), nothing outside an active period (409 closed, 422 closed), only joined
players where joining is required (422 not_joined), at most max_attempts a period with a
retried idempotency key counted once (422 attempts); a refused submission changes nothing;
a board shows its tournament's state, and /v1/tournaments lists them."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from starlette.testclient import TestClient

from podium.api.contract import boards, tournaments
from podium.errors import BackendUnavailable
from podium.settings import Settings
from tests.conftest import BoardNames
from tests.integration.test_bad_input import state
from tests.integration.test_score_rules import refusals, refused_for


def instant(offset_s: float) -> str:
    """Now plus `offset_s`, as an RFC 3339 instant in whole seconds."""
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=offset_s)
    return at.isoformat().replace("+00:00", "Z")


def running(**rules: Any) -> dict[str, Any]:
    """A one-shot tournament that started a minute ago and runs for an hour."""
    return {"tournament": {"start": instant(-60), "duration_s": 3600, **rules}}


def made(client: TestClient, board: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.put(f"/v1/boards/{board}", json=body)
    assert answer.status_code == 201, answer.text
    shown: dict[str, Any] = answer.json()
    return shown


def test_a_tournament_board_shows_its_setting_and_state(client: TestClient, b: BoardNames) -> None:
    body = running(max_players=3, join_required=True, max_attempts=2)
    shown = made(client, b.arena, body)["tournament"]
    assert {k: shown[k] for k in body["tournament"]} == body["tournament"]
    assert shown["active"] is True and shown["period"] == "once" and shown["players"] == 0
    assert shown["next_start"] is None  # a one-shot has no second period
    ends = datetime.fromisoformat(shown["ends_at"]) - datetime.fromisoformat(body["tournament"]["start"])
    assert ends == timedelta(seconds=3600)
    assert client.put(f"/v1/boards/{b.arena}", json=body).status_code == 200  # the same settings again
    other = running(max_attempts=3)
    conflict = client.put(f"/v1/boards/{b.arena}", json=other)
    assert conflict.status_code == 409 and "tournament" in conflict.json()["error"]["message"]
    patched = client.patch(f"/v1/boards/{b.arena}", json={"tournament": None})
    assert patched.status_code == 400 and patched.json()["error"]["code"] == "immutable_setting"
    plain = made(client, b.plain, {})
    assert "tournament" not in plain  # every other board reads as before


def test_a_bad_setting_is_a_400_saying_why(client: TestClient, b: BoardNames) -> None:
    for tournament, says in [
        ({"start": "tomorrow", "duration_s": 60}, "RFC 3339"),
        ({"start": instant(0)}, "duration_s or end"),
        ({"start": instant(0), "duration_s": 60, "max_players": 2}, "join_required"),
        ({"start": instant(0), "duration_s": 60, "reset": "0 25 * * *"}, "cron"),
        ({"start": instant(0), "duration_s": 60, "reset": "0 9 * * *"}, "cron:0 9 * * *"),  # not in windows
        ({"start": instant(0), "duration_s": 0}, "duration_s"),
        ({"start": instant(0), "duration_s": 60, "entry_fee": 5}, "entry_fee"),
    ]:
        answer = client.put(f"/v1/boards/{b.arena}", json={"tournament": tournament})
        assert answer.status_code == 400, (tournament, answer.text)
        assert says in answer.json()["error"]["message"], answer.text
    assert client.get(f"/v1/boards/{b.arena}").status_code == 404  # nothing was made
    daily = {"start": instant(0), "duration_s": 600, "reset": "0 9 * * *"}
    kept = made(client, b.arena, {"windows": ["all", "cron:0 9 * * *"], "tournament": daily})
    assert kept["tournament"]["reset"] == "0 9 * * *"
    dropped = client.patch(f"/v1/boards/{b.arena}", json={"windows": ["all"]})  # the reset's window stays
    assert dropped.status_code == 400 and dropped.json()["error"]["code"] == "invalid_tournament"


def test_joins_are_first_come_first_served_up_to_the_size(client: TestClient, b: BoardNames) -> None:
    made(client, b.arena, running(max_players=2, join_required=True))
    players = f"/v1/boards/{b.arena}/players"
    first = client.post(f"{players}/ann")
    assert first.status_code == 201 and first.json() == {
        "board": b.arena,
        "user_id": "ann",
        "period": "once",
        "joined": True,
        "players": 1,
    }
    again = client.post(f"{players}/ann")
    assert again.status_code == 200 and again.json()["joined"] is False and again.json()["players"] == 1
    assert client.post(f"{players}/bob").status_code == 201
    full = client.post(f"{players}/cy")
    assert full.status_code == 409 and full.json()["error"]["code"] == "full"
    assert client.delete(f"{players}/ann").status_code == 204
    assert client.delete(f"{players}/ann").status_code == 204  # leaving twice is leaving
    assert client.post(f"{players}/cy").status_code == 201  # ann's place is free again
    assert client.get(f"/v1/boards/{b.arena}").json()["tournament"]["players"] == 2
    assert client.post(f"/v1/boards/{b.plain}/players/ann").status_code == 404
    made(client, b.plain, {})
    not_one = client.post(f"/v1/boards/{b.plain}/players/ann")
    assert not_one.status_code == 400 and not_one.json()["error"]["code"] == "not_a_tournament"


def test_many_joins_at_once_fill_exactly_the_size(client: TestClient, b: BoardNames) -> None:
    made(client, b.arena, running(max_players=5, join_required=True))
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda i: client.post(f"/v1/boards/{b.arena}/players/u{i}"), range(30)))
    codes = [a.status_code for a in answers]
    assert codes.count(201) == 5 and codes.count(409) == 25, codes
    assert all(a.json()["error"]["code"] == "full" for a in answers if a.status_code == 409)
    assert client.get(f"/v1/boards/{b.arena}").json()["tournament"]["players"] == 5


def test_nothing_counts_outside_an_active_period(client: TestClient, settings: Settings, b: BoardNames) -> None:
    later = {"tournament": {"start": instant(3600), "duration_s": 60, "join_required": True}}
    shown = made(client, b.arena, later)["tournament"]
    assert shown["active"] is False and shown["period"] is None and shown["ends_at"] is None
    assert shown["next_start"] == later["tournament"]["start"] and shown["players"] == 0
    ended = {"tournament": {"start": instant(-7200), "end": instant(-3600)}}
    assert made(client, b.fresh, ended)["tournament"]["next_start"] is None  # none is left
    closed = client.post(f"/v1/boards/{b.arena}/players/ann")
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "closed"
    assert client.delete(f"/v1/boards/{b.arena}/players/ann").status_code == 409
    before = state(client, settings, b)
    counted = refusals(b.arena, "closed")
    refused_for(client.post(f"/v1/boards/{b.arena}/scores", json={"user_id": "ann", "score": 5}), "closed")
    batch = {"scores": [{"user_id": "ann", "score": 5}]}
    refused_for(client.post(f"/v1/boards/{b.arena}/scores/batch", json=batch), "closed", index=0)
    assert refusals(b.arena, "closed") == counted + 2
    assert state(client, settings, b) == before


def test_only_joined_players_may_submit_where_joining_is_required(
    client: TestClient, settings: Settings, b: BoardNames
) -> None:
    made(client, b.arena, running(join_required=True))
    scores = f"/v1/boards/{b.arena}/scores"
    before = state(client, settings, b)
    refused_for(client.post(scores, json={"user_id": "ann", "score": 5}), "not_joined")
    assert client.post(f"/v1/boards/{b.arena}/players/bob").status_code == 201
    batch = {"scores": [{"user_id": "bob", "score": 3}, {"user_id": "ann", "score": 5}]}
    refused_for(client.post(f"{scores}/batch", json=batch), "not_joined", index=1)
    assert state(client, settings, b) == before  # bob's good item was not applied either
    assert client.post(f"/v1/boards/{b.arena}/players/ann").status_code == 201
    answer = client.post(f"{scores}?wait=true", json={"user_id": "ann", "score": 5})
    assert answer.status_code == 200 and answer.json()["score"] == 5
    assert client.delete(f"/v1/boards/{b.arena}/players/ann").status_code == 204
    refused_for(client.post(scores, json={"user_id": "ann", "score": 5}), "not_joined")  # left: out again
    assert client.get(f"/v1/boards/{b.arena}/users/ann").json()["score"] == 5  # its score stays


def test_attempts_are_counted_once_under_a_retried_key(client: TestClient, settings: Settings, b: BoardNames) -> None:
    made(client, b.arena, running(max_attempts=2))
    scores = f"/v1/boards/{b.arena}/scores"
    for key in ("run-1", "run-1", "run-1", "run-2"):  # run-1 retried: one attempt
        answer = client.post(f"{scores}?wait=true", json={"user_id": "ann", "score": 10, "key": key})
        assert answer.status_code == 200, answer.text
    assert client.get(f"/v1/boards/{b.arena}/users/ann").json()["score"] == 20  # and applied once
    before = state(client, settings, b)
    refused_for(client.post(scores, json={"user_id": "ann", "score": 10, "key": "run-3"}), "attempts")
    refused_for(client.post(scores, json={"user_id": "ann", "score": 10}), "attempts")
    # A batch refused for ann's item counts no attempt of bob's: his two still fit.
    batch = {"scores": [{"user_id": "bob", "score": 1, "key": "b-1"}, {"user_id": "ann", "score": 1}]}
    refused_for(client.post(f"{scores}/batch", json=batch), "attempts", index=1)
    assert state(client, settings, b) == before
    retried = client.post(f"{scores}?wait=true", json={"user_id": "ann", "score": 10, "key": "run-2"})
    assert retried.status_code == 200 and retried.json()["score"] == 20  # a retry is let through, not applied twice
    two = {"scores": [{"user_id": "bob", "score": 1, "key": "b-1"}, {"user_id": "bob", "score": 1, "key": "b-2"}]}
    assert client.post(f"{scores}/batch?wait=true", json=two).status_code == 200
    refused_for(client.post(scores, json={"user_id": "bob", "score": 1, "key": "b-3"}), "attempts")


def test_the_list_shows_every_tournament_and_filters_the_active(client: TestClient, b: BoardNames) -> None:
    made(client, b.arena, running(join_required=True))
    made(client, b.later, {"tournament": {"start": instant(3600), "duration_s": 60}})
    made(client, b.plain, {})
    assert client.post(f"/v1/boards/{b.arena}/players/ann").status_code == 201

    def listed(query: str) -> dict[str, Any]:
        answer = client.get(f"/v1/tournaments{query}")
        assert answer.status_code == 200, answer.text
        return {t["board"]: t for t in answer.json()["tournaments"] if t["board"] in (b.arena, b.later, b.plain)}

    every = listed("")
    assert sorted(every) == sorted([b.arena, b.later])
    assert every[b.arena]["active"] is True and every[b.arena]["players"] == 1
    assert every[b.later]["active"] is False and every[b.later]["next_start"] is not None
    assert sorted(listed("?active=true")) == [b.arena]
    assert sorted(listed("?active=false")) == [b.later]
    assert client.get("/v1/tournaments?active=maybe").status_code == 400


def test_a_period_that_ends_closes_the_tournament(client: TestClient, b: BoardNames) -> None:
    made(client, b.arena, {"tournament": {"start": instant(-1), "duration_s": 3}})
    scores = f"/v1/boards/{b.arena}/scores"
    assert client.post(f"{scores}?wait=true", json={"user_id": "ann", "score": 5}).status_code == 200
    deadline = time.monotonic() + 10
    while client.get(f"/v1/boards/{b.arena}").json()["tournament"]["active"] and time.monotonic() < deadline:
        time.sleep(0.2)
    refused_for(client.post(scores, json={"user_id": "ann", "score": 5}), "closed")
    assert client.get(f"/v1/boards/{b.arena}/users/ann").json()["score"] == 5


def test_each_answer_is_its_declared_type(client: TestClient, b: BoardNames) -> None:
    board = made(client, b.arena, running(max_players=2, join_required=True, max_attempts=1))
    assert msgspec.convert(board, boards.Board, strict=True).tournament is not msgspec.UNSET
    joined = client.post(f"/v1/boards/{b.arena}/players/ann")
    assert msgspec.convert(joined.json(), tournaments.Player, strict=True).joined
    listed = msgspec.convert(client.get("/v1/tournaments").json(), tournaments.TournamentList, strict=True)
    assert b.arena in [t.board for t in listed.tournaments]


def test_an_attempt_whose_append_failed_is_the_same_attempt_when_retried(
    client: TestClient, b: BoardNames, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attempts are counted before the log: one counted and then not appended (the log refused
    it) stays counted, and the api's or client's retry with its key is that attempt, not another."""
    made(client, b.arena, running(max_attempts=2))
    ingest = client.app.state.services.ingest  # type: ignore[attr-defined]
    appended = ingest.submit_timed

    async def refused_once(items: Any) -> Any:
        monkeypatch.setattr(ingest, "submit_timed", appended)  # the next append goes through
        raise BackendUnavailable("log: the append timed out")

    monkeypatch.setattr(ingest, "submit_timed", refused_once)
    scores = f"/v1/boards/{b.arena}/scores"
    failed = client.post(f"{scores}?wait=true", json={"user_id": "ann", "score": 10, "key": "run-1"})
    assert failed.status_code == 503, failed.text
    for key in ("run-1", "run-2"):  # the retry, then a second attempt: both fit in two
        answer = client.post(f"{scores}?wait=true", json={"user_id": "ann", "score": 10, "key": key})
        assert answer.status_code == 200, answer.text
    assert client.get(f"/v1/boards/{b.arena}/users/ann").json()["score"] == 20
    refused_for(client.post(scores, json={"user_id": "ann", "score": 10, "key": "run-3"}), "attempts")
