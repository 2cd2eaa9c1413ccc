"""Every answer is the type the contract declares for it (podium/api/contract/), read
strictly: the document's components are generated from these types, so an answer that
drifted from its type would drift from /openapi.json too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest
from starlette.testclient import TestClient

from podium.api.app import create_app
from podium.api.contract import boards, errors, friends, jobs, reads, scores, upkeep, users
from podium.settings import Settings


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data=tmp_path / "data", wait_timeout_s=5.0, auth="off", rate_key_per_s=0, rate_address_per_s=0)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def declared(answer: Any, kind: type[Any], status: int = 200) -> Any:
    """The answer, read as `kind` (raises if it is not one). Whether a handler encodes a
    Struct (msgspec) or a dict (orjson), the bytes are orjson's for that JSON, as they always were."""
    assert answer.status_code == status, answer.text
    assert answer.content == orjson.dumps(answer.json())
    return msgspec.convert(answer.json(), kind, strict=True)


def test_each_answer_is_its_declared_type(client: TestClient) -> None:
    weekly = {"windows": ["all", "week"], "subscore_order": "asc", "rules": {"max_score": 1000}}
    assert declared(client.put("/v1/boards/arena", json=weekly), boards.Board, 201).users == 0
    assert declared(client.get("/v1/boards"), boards.BoardList).boards == ["arena"]
    assert declared(client.patch("/v1/boards/arena", json={"keep_periods": 3}), boards.Board).keep_periods == 3

    one = {"user_id": "ada", "score": 5, "subscore": 1, "display_name": "Ada", "metadata": {"level": 3, "power": 1e300}}
    assert declared(client.post("/v1/boards/arena/scores", json=one), scores.Accepted, 202).accepted
    shown = declared(client.post("/v1/boards/arena/scores?wait=true", json=one), scores.Result)
    assert shown.user_id == "ada" and shown.windows is not msgspec.UNSET
    batch = {"scores": [{"user_id": u, "score": s} for u, s in (("bob", 7), ("cy", 3))]}
    assert declared(client.post("/v1/boards/arena/scores/batch", json=batch), scores.Accepted, 202).count == 2
    results = declared(client.post("/v1/boards/arena/scores/batch?wait=true", json=batch), scores.Results)
    assert [r.user_id for r in results.results] == ["bob", "cy"]

    top = declared(client.get("/v1/boards/arena/top"), reads.TopPage)
    assert [(e.user_id, e.score) for e in top.entries] == [("bob", 14), ("ada", 10), ("cy", 6)]  # incr: each twice
    assert declared(client.get("/v1/boards/arena/users/ada"), reads.Entry).percentile is not msgspec.UNSET
    assert declared(client.get("/v1/boards/arena/users/ada/around"), reads.Around).entries
    lookup = declared(
        client.post("/v1/boards/arena/users/lookup", json={"user_ids": ["ada", "zed"]}), reads.LookupResult
    )
    assert lookup.missing == ["zed"]
    assert declared(client.get("/v1/boards/arena/range?min=0&max=10"), reads.Range).count == 2
    assert declared(client.get("/v1/boards/arena/count?min=4"), reads.Count).count == 3
    assert declared(client.get("/v1/boards/arena/score-for-rank?rank=1"), reads.ScoreForRank).score == 14
    assert declared(client.get("/v1/boards/arena/periods?window=week"), reads.Periods).window == "week"
    # A window's period board names its window and period in every read.
    week = "window=week"
    assert declared(client.get(f"/v1/boards/arena/top?{week}"), reads.TopPage).window == "week"
    assert declared(client.get(f"/v1/boards/arena/users/ada/around?{week}"), reads.Around).window == "week"
    found = client.post(f"/v1/boards/arena/users/lookup?{week}", json={"user_ids": ["ada"]})
    assert declared(found, reads.LookupResult).period is not msgspec.UNSET
    assert declared(client.get(f"/v1/boards/arena/range?min=0&{week}"), reads.Range).window == "week"
    assert declared(client.get(f"/v1/boards/arena/count?{week}"), reads.Count).window == "week"
    assert declared(client.get(f"/v1/boards/arena/score-for-rank?{week}"), reads.ScoreForRank).window == "week"
    # The game's metadata comes back as it was stored: 1e+300 as orjson wrote it (declared() checks the bytes).
    assert b'"power":1e+300' in client.get("/v1/boards/arena/users/ada").content

    assert declared(client.put("/v1/users/ada/friends", json={"friends": ["bob"]}), friends.Friends).friends == ["bob"]
    assert declared(client.get("/v1/users/ada/friends"), friends.Friends).friends == ["bob"]
    assert len(declared(client.get("/v1/boards/arena/users/ada/friends"), friends.FriendsBoard).entries) == 2
    weekly_friends = client.get("/v1/boards/arena/users/ada/friends?window=week")
    assert declared(weekly_friends, friends.FriendsBoard).window == "week"
    assert b'"display_name":"Ada","metadata":{"level":3,"power":1e+300}' in weekly_friends.content

    assert declared(client.post("/v1/boards/arena/users/cy/hide"), users.Hidden).hidden
    exported = client.get("/v1/users/ada/export")
    assert declared(exported, users.Export).friends == ["bob"]
    assert b'"metadata":{"level":3,"power":1e+300}' in exported.content
    assert declared(client.delete("/v1/users/cy"), users.Forgotten).user_id == "cy"

    health = declared(client.get("/healthz"), upkeep.Health)
    assert health.status == "ok" and health.workers["db-worker"].running
    assert declared(client.get("/v1/admin/boards/arena/buckets"), upkeep.Buckets).board == "arena"
    assert declared(client.post("/v1/admin/reconcile", json={"dry_run": True}), upkeep.ReconcileReport).dry_run

    job = declared(client.post("/v1/admin/rebuild", json={"board": "arena"}), jobs.Job, 202)
    assert job.kind == "rebuild"
    assert declared(client.get(f"/v1/admin/jobs/{job.id}"), jobs.Job).id == job.id
    assert declared(client.post("/v1/admin/replay", json={"from": 0}), jobs.Job, 202).kind == "replay"

    refused = declared(client.post("/v1/boards/arena/scores", json={"user_id": "ada"}), errors.Error, 400)
    assert refused.error.code == "missing_field"
    broken = declared(client.post("/v1/boards/arena/scores/batch", json={"scores": [{"user_id": "x", "score": 2000}]}),
                      errors.Error, 422)  # fmt: skip
    assert (broken.error.rule, broken.error.index) == ("max_score", 0)


def test_answers_encoded_by_their_types_keep_their_bytes(client: TestClient) -> None:
    """The bytes the hand-built dicts gave, field for field in the same order."""
    assert client.put("/v1/boards/arena", json={}).status_code == 201
    assert client.get("/v1/boards").content == b'{"boards":["arena"]}'
    ruled = client.patch("/v1/boards/arena", json={"rules": {"max_score": 1000, "min_score": -5}}).content
    assert ruled == (
        b'{"board":"arena","order":"desc","operator":"incr","tie":"unique","subscore_order":null,"windows":["all"],'
        b'"timezone":"UTC","keep_periods":7,"allow_operator_override":false,"reads":"key",'
        b'"rules":{"min_score":-5,"max_score":1000},"users":0}'
    )
    assert b'"rules":{},' in client.patch("/v1/boards/arena", json={"rules": {}}).content
    assert client.post("/v1/boards/arena/users/ada/hide").content == b'{"board":"arena","user_id":"ada","hidden":true}'
    assert client.put("/v1/users/ada/friends", json={"friends": ["bob"]}).content == (
        b'{"user_id":"ada","friends":["bob"]}'
    )
    assert client.post("/v1/boards/arena/scores", json={"user_id": "ada"}).content == (
        b'{"error":{"code":"missing_field","message":"missing field \'score\' in the body"}}'
    )
    assert client.get("/v1/nowhere").content == b'{"error":{"code":"not_found","message":"no such path: /v1/nowhere"}}'
    health = client.get("/healthz").content
    assert health.startswith(
        b'{"status":"ok","profile":"embedded","workers":{"db-worker":{"running":true,"restarts":0}'
    )
    assert client.delete("/v1/users/ada").content == b'{"user_id":"ada","boards":["arena"],"friends_removed":1}'
