"""The global layout on the real stack (docs/global.md): the home db-worker applies a
score MirrorMaker 2 copied from another region's ingest topic, and an api away from home
reads ranks from the Redis replicas and leaves changes of boards and of the index to home."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import orjson
import pytest
from prometheus_client import REGISTRY
from redis.sentinel import Sentinel
from starlette.testclient import TestClient

from podium.api.app import create_app
from podium.bootstrap import prepare_distributed
from podium.log.kafka import KafkaLog
from podium.pipeline.codec import encode_score, log_key
from podium.plumbing import names
from podium.settings import Settings
from tests.distributed.hops import topic_records
from tests.distributed.stack import eventually

pytestmark = pytest.mark.distributed


def test_a_score_mirrored_home_from_another_region_is_ranked(dist_settings: Settings, board_name: str) -> None:
    home = dataclasses.replace(dist_settings, region="us", regions="us,eu")
    prepare_distributed(home)  # creates eu.scores.ingest, as MirrorMaker 2 would
    with TestClient(create_app(home)) as client:
        assert client.put(f"/v1/boards/{board_name}", json={}).status_code == 201
        # What MirrorMaker 2 writes at home: eu's record as eu's api wrote it, same key.
        mirrored = KafkaLog(home.kafka_bootstrap, names.mirrored_ingest_topic("eu"))

        async def append() -> None:
            record = encode_score(board_name, "kai", 40, time.time_ns() // 1000, region="eu")
            await mirrored.append([(log_key(board_name, "kai"), record)])
            await mirrored.close()

        asyncio.run(append())
        answer = client.post(f"/v1/boards/{board_name}/scores?wait=true", json={"user_id": "ada", "score": 30})
        assert answer.status_code == 200, answer.text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = client.get(f"/v1/boards/{board_name}/users/kai")
            if found.status_code == 200:
                break
            time.sleep(0.2)
        assert {k: found.json()[k] for k in ("rank", "score")} == {"rank": 1, "score": 40}
    # The home api stamped its own region on what it accepted.
    [(_, value)] = topic_records(names.INGEST_TOPIC, board_name.encode())
    assert orjson.loads(value)["region"] == "us"


def test_a_users_score_through_a_second_region_is_refused(dist_settings: Settings, board_name: str) -> None:
    """One region per user on the real pipeline: kai's first score came through eu (mirrored
    home); through us it is a 409 with wait=true, and without it a 202 the home db-worker
    refuses, counted, kai's total untouched."""
    home = dataclasses.replace(dist_settings, region="us", regions="us,eu")
    prepare_distributed(home)
    with TestClient(create_app(home)) as client:
        assert client.put(f"/v1/boards/{board_name}", json={}).status_code == 201
        mirrored = KafkaLog(home.kafka_bootstrap, names.mirrored_ingest_topic("eu"))

        async def append() -> None:
            record = encode_score(board_name, "kai", 40, time.time_ns() // 1000, region="eu")
            await mirrored.append([(log_key(board_name, "kai"), record)])
            await mirrored.close()

        asyncio.run(append())
        assert eventually(lambda: client.get(f"/v1/boards/{board_name}/users/kai").json().get("score")) == 40
        scores = f"/v1/boards/{board_name}/scores"
        refused = client.post(f"{scores}?wait=true", json={"user_id": "kai", "score": 5})
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "wrong_region" and refused.json()["error"]["user_region"] == "eu"
        before = wrong_region_count()
        assert client.post(scores, json={"user_id": "kai", "score": 5}).status_code == 202
        assert eventually(lambda: wrong_region_count() > before)
        assert client.get(f"/v1/boards/{board_name}/users/kai").json()["score"] == 40
        # A player of us's own enters through us.
        assert client.post(f"{scores}?wait=true", json={"user_id": "ada", "score": 7}).status_code == 200
        regions = {
            user: [
                e["region"]
                for e in client.get(f"/v1/users/{user}/export").json()["entries"]
                if e["board"] == board_name
            ]
            for user in ("kai", "ada")
        }
        assert regions == {"kai": ["eu"], "ada": ["us"]}


def wrong_region_count() -> float:
    """Events this process's db-worker refused for coming through another region than their user's."""
    return REGISTRY.get_sample_value("podium_db_worker_records_total", {"outcome": "wrong_region"}) or 0.0


def replica_urls(settings: Settings) -> tuple[str, list[tuple[str, int]]]:
    """The stack's replicas of the rank shards, as `redis_read_shards` names them, and where they are."""
    sentinel = Sentinel(settings.redis_sentinel_list, sentinel_kwargs=settings.redis_auth)
    replicas = [sentinel.discover_slaves(name)[0] for name in settings.redis_shard_list]
    return ",".join(f"redis://{host}:{port}/0" for host, port in replicas), [(h, int(p)) for h, p in replicas]


def test_an_api_reading_replicas_refuses_changes_of_boards_and_index_naming_home(
    dist_settings: Settings, board_name: str
) -> None:
    """Each change a replica could not take is a 421 naming the home region, and changes
    nothing: before, deleting a board took it out of the store and then answered Redis's
    READONLY as a 503, its ranks left behind."""
    urls, _ = replica_urls(dist_settings)
    away = dataclasses.replace(dist_settings, region="eu", home_region="us", redis_read_shards=urls)
    with TestClient(create_app(dist_settings)) as home:  # the workers too: wait=true below
        assert home.put(f"/v1/boards/{board_name}", json={}).status_code == 201
        assert home.post(f"/v1/boards/{board_name}/scores?wait=true", json={"user_id": "ada", "score": 30}).is_success
        with TestClient(create_app(away, ["api"])) as client:
            for method, path, body in (
                ("DELETE", f"/v1/boards/{board_name}", None),
                ("PATCH", f"/v1/boards/{board_name}", {"keep_periods": 3}),
                ("PUT", f"/v1/boards/{board_name}-new", {}),
                ("POST", "/v1/admin/rebuild", {"board": board_name}),
                ("POST", "/v1/admin/replay", {"from": 0}),
                ("POST", "/v1/admin/reconcile", {"boards": [board_name]}),
            ):
                answer = client.request(method, path, json=body)
                assert answer.status_code == 421, (method, path, answer.text)
                error = answer.json()["error"]
                assert error["code"] == "not_home_region" and error["home_region"] == "us", error
                assert "'us'" in error["message"] and "READONLY" not in answer.text
            # Reads go on: the board and its ranks are all there, from the replicas.
            found = eventually(lambda: client.get(f"/v1/boards/{board_name}/users/ada").json().get("rank"))
            assert found == 1
            assert client.get(f"/v1/boards/{board_name}").json()["keep_periods"] == 7
        # Nothing changed: the board is still served at home, and none was made.
        assert home.get(f"/v1/boards/{board_name}/top").json()["entries"][0]["user_id"] == "ada"
        assert home.get(f"/v1/boards/{board_name}-new").status_code == 404
        assert home.delete(f"/v1/boards/{board_name}").status_code == 204  # at home it is done


def test_an_api_away_from_home_reads_ranks_from_the_replicas(
    distributed_processes: object, dist_settings: Settings, board_name: str
) -> None:
    urls, replicas = replica_urls(dist_settings)
    away = dataclasses.replace(dist_settings, region="eu", home_region="us", redis_read_shards=urls)
    with TestClient(create_app(dist_settings, ["api"])) as home:
        assert home.put(f"/v1/boards/{board_name}", json={}).status_code == 201
    with TestClient(create_app(away, ["api"])) as client:
        for user, score in (("ada", 30), ("bob", 50)):
            # wait=true away from home: answered once the region's replica shows the score.
            answer = client.post(f"/v1/boards/{board_name}/scores?wait=true", json={"user_id": user, "score": score})
            assert answer.status_code == 200, answer.text
        top = client.get(f"/v1/boards/{board_name}/top").json()
        assert [(e["user_id"], e["rank"]) for e in top["entries"]] == [("bob", 1), ("ada", 2)]
        # ... and it was the replicas that answered: the index's clients are theirs.
        shards = client.app.state.services.index.inner._shards  # type: ignore[attr-defined]
        read_from = [
            (c.connection_pool.connection_kwargs["host"], c.connection_pool.connection_kwargs["port"]) for c in shards
        ]
        assert read_from == replicas
