"""A board's score rules: a breaking submission is a 422 naming the rule, counted in a
metric, and changes nothing; a batch with one breaking item is refused whole."""

from __future__ import annotations

from typing import Any

from prometheus_client import REGISTRY
from starlette.testclient import TestClient

from podium.settings import Settings
from tests.conftest import BoardNames
from tests.integration.test_bad_input import state


def refusals(board: str, rule: str) -> float:
    return REGISTRY.get_sample_value("podium_rule_refusals_total", {"board": board, "rule": rule}) or 0.0


def refused_for(answer: Any, rule: str, index: int | None = None) -> None:
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "score_rule" and error["rule"] == rule and rule in error["message"]
    assert error.get("index") == index


def test_each_rule_is_a_422_naming_it_and_changes_nothing(
    client: TestClient, settings: Settings, b: BoardNames
) -> None:
    rules = {"min_score": 0, "max_score": 1000, "max_change": 100}
    made = client.put(f"/v1/boards/{b.arena}", json={"operator": "set", "rules": rules})
    assert made.status_code == 201 and made.json()["rules"] == rules
    scores = f"/v1/boards/{b.arena}/scores"
    assert client.post(f"{scores}?wait=true", json={"user_id": "ann", "score": 900}).status_code == 200  # no total yet
    before = state(client, settings, b)
    for score, rule in [(-1, "min_score"), (1001, "max_score"), (799, "max_change")]:
        counted = refusals(b.arena, rule)
        refused_for(client.post(scores, json={"user_id": "ann", "score": score}), rule)
        batch = {"scores": [{"user_id": "bob", "score": 5}, {"user_id": "ann", "score": score}]}
        refused_for(client.post(f"{scores}/batch", json=batch), rule, index=1)
        assert refusals(b.arena, rule) == counted + 2
    assert state(client, settings, b) == before  # bob's good item was not applied either
    assert client.post(f"{scores}?wait=true", json={"user_id": "ann", "score": 1000}).json()["score"] == 1000


def test_max_change_bounds_the_amount_on_an_incr_board(client: TestClient, b: BoardNames) -> None:
    client.put(f"/v1/boards/{b.arena}", json={"rules": {"max_change": 10}})
    scores = f"/v1/boards/{b.arena}/scores"
    assert client.post(f"{scores}?wait=true", json={"user_id": "ann", "score": 10}).status_code == 200
    refused_for(client.post(scores, json={"user_id": "ann", "score": -11}), "max_change")
    assert client.get(f"/v1/boards/{b.arena}/users/ann").json()["score"] == 10


def test_submissions_per_minute_count_a_replayed_key_once(
    client: TestClient, settings: Settings, b: BoardNames
) -> None:
    client.put(f"/v1/boards/{b.arena}", json={"rules": {"max_submissions_per_minute": 3}})
    scores = f"/v1/boards/{b.arena}/scores"
    for body in [{"score": 1}, {"score": 1, "key": "run-1"}, {"score": 1, "key": "run-1"}, {"score": 1}]:
        answer = client.post(f"{scores}?wait=true", json={"user_id": "ann", **body})
        assert answer.status_code == 200, answer.text  # the replay of run-1 counts once
    before = state(client, settings, b)
    refused_for(client.post(scores, json={"user_id": "ann", "score": 1}), "max_submissions_per_minute")
    batch = {"scores": [{"user_id": "bob", "score": 1}, {"user_id": "ann", "score": 1}]}
    refused_for(client.post(f"{scores}/batch", json=batch), "max_submissions_per_minute", index=1)
    assert state(client, settings, b) == before
    assert client.get(f"/v1/boards/{b.arena}/users/ann").json()["score"] == 3
    # bob's refused item was not counted: his three fit.
    batch = {"scores": [{"user_id": "bob", "score": 1}] * 3}
    assert client.post(f"{scores}/batch?wait=true", json=batch).status_code == 200


def test_patch_changes_the_rules(client: TestClient, b: BoardNames) -> None:
    client.put(f"/v1/boards/{b.arena}", json={"rules": {"min_score": 0}})
    scores = f"/v1/boards/{b.arena}/scores"
    patched = client.patch(f"/v1/boards/{b.arena}", json={"rules": {"max_score": 10}})
    assert patched.status_code == 200 and patched.json()["rules"] == {"max_score": 10}  # the whole set replaced
    assert client.get(f"/v1/boards/{b.arena}").json()["rules"] == {"max_score": 10}
    refused_for(client.post(scores, json={"user_id": "ann", "score": 11}), "max_score")
    assert client.post(f"{scores}?wait=true", json={"user_id": "ann", "score": -5}).status_code == 200
    assert client.patch(f"/v1/boards/{b.arena}", json={"rules": {}}).json()["rules"] == {}
    assert client.post(f"{scores}?wait=true", json={"user_id": "ann", "score": 11}).status_code == 200
    bad = client.patch(f"/v1/boards/{b.arena}", json={"rules": {"max_score": "ten"}})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_rules"
    bad = client.put(f"/v1/boards/{b.other}", json={"rules": {"cheat": 1}})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_rules"
    assert client.get(f"/v1/boards/{b.other}").status_code == 404


def test_openapi_tells_the_rules_and_their_answers(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    for name in ("BoardSettings", "BoardChanges", "Board"):
        rules = schemas[name]["properties"]["rules"]
        named = rules.get("$ref") or next(s["$ref"] for s in rules["anyOf"] if "$ref" in s)
        assert set(schemas[named.rsplit("/", 1)[1]]["properties"]) == {
            "min_score",
            "max_score",
            "max_change",
            "max_submissions_per_minute",
        }
    for path in ("/v1/boards/{board}/scores", "/v1/boards/{board}/scores/batch"):
        responses = doc["paths"][path]["post"]["responses"]
        assert {"422", "429"} <= set(responses)
        assert "Retry-After" in responses["429"]["headers"]
    assert "429" in doc["paths"]["/v1/boards/{board}"]["patch"]["responses"]
    assert "429" not in doc["paths"]["/healthz"]["get"]["responses"]
