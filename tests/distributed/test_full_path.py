"""Scores submitted over HTTP come back ranked after passing every hop of the design:
Kafka → db-worker → Cassandra → Debezium (commit log) → Kafka → rank-worker → Redis."""

from __future__ import annotations

import shutil
import subprocess

import orjson
import pytest
from redis.sentinel import Sentinel
from starlette.testclient import TestClient

from podium.api.app import create_app
from podium.plumbing import names
from podium.settings import Settings
from tests.distributed.hops import cassandra_row, change_totals, topic_records

pytestmark = pytest.mark.distributed


def test_scores_pass_every_hop_and_come_back_ranked(dist_settings: Settings, board_name: str) -> None:
    with TestClient(create_app(dist_settings)) as client:
        assert client.put(f"/v1/boards/{board_name}", json={}).status_code == 201
        for user, score in (("ada", 30), ("bob", 50), ("ada", 25)):
            answer = client.post(f"/v1/boards/{board_name}/scores?wait=true", json={"user_id": user, "score": score})
            assert answer.status_code == 200, answer.text
        assert {k: answer.json()[k] for k in ("rank", "user_id", "score")} == {"rank": 1, "user_id": "ada", "score": 55}
        top = client.get(f"/v1/boards/{board_name}/top").json()
        assert [{k: e[k] for k in ("rank", "user_id", "score")} for e in top["entries"]] == [
            {"rank": 1, "user_id": "ada", "score": 55},
            {"rank": 2, "user_id": "bob", "score": 50},
        ]

    # Hop 1: the ingest topic holds the three submissions, keyed board:user.
    ingest = topic_records(names.INGEST_TOPIC, board_name.encode(), want=3)
    assert sorted(k.decode() for k, _ in ingest) == sorted([f"{board_name}:ada"] * 2 + [f"{board_name}:bob"])
    assert sorted(orjson.loads(v)["score"] for _, v in ingest) == [25, 30, 50]
    # Hop 2: Cassandra, the source of truth, has the totals with versions and log positions.
    row = cassandra_row(board_name, "ada")
    assert (row.total, row.version) == (55, 2)
    # Hop 3: Debezium read the commit log and wrote change events for each write
    # (at least once: a duplicate is harmless downstream, thanks to versions).
    changes = topic_records(names.changes_topic(), board_name.encode(), want=3)
    assert sorted(set(change_totals(changes))) == [30, 50, 55]
    # Hop 4: the Redis shards hold the ranking: the user's newest total and version on the
    # board's home shard, the members in bucket sorted sets, and each on its shard's replica
    # too (the rank-worker WAITs for a replica before committing its offsets).
    auth = dist_settings.redis_auth
    sentinel = Sentinel(dist_settings.redis_sentinel_list, sentinel_kwargs=auth, **auth)
    states, members = [], 0
    for name in dist_settings.redis_shard_list:
        for client in (sentinel.master_for(name), sentinel.slave_for(name)):
            states += [s for s in [client.hget(names.users_key(board_name), "ada")] if s is not None]
            buckets = client.scan_iter(names.bucket_key(board_name, 0)[:-1] + "*", _type="zset")  # not fences
            members += sum(client.zcard(k) for k in buckets)
    assert [s.decode()[:4] for s in states] == ["2|0|", "2|0|"]  # primary and replica
    assert members == 2 * 2


def test_an_outside_client_reads_both_topics(dist_settings: Settings, board_name: str) -> None:
    kcat = shutil.which("kcat")
    assert kcat, "kcat is installed by `make test` (Debian package kcat)"
    with TestClient(create_app(dist_settings)) as client:
        client.put(f"/v1/boards/{board_name}", json={"operator": "best"})
        body = {"scores": [{"user_id": f"u{i}", "score": i * 10} for i in range(5)]}
        assert client.post(f"/v1/boards/{board_name}/scores/batch?wait=true", json=body).status_code == 200

    def read(topic: str) -> list[tuple[str, str]]:
        out = subprocess.run(
            [kcat, "-b", "127.0.0.1:9092", "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%k\\t%s\\n"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        return [tuple(line.split("\t", 1)) for line in out.splitlines() if board_name in line]  # type: ignore[misc]

    ingest = read(names.INGEST_TOPIC)
    assert sorted(k for k, _ in ingest) == sorted(f"{board_name}:u{i}" for i in range(5))
    assert sorted(orjson.loads(v)["score"] for _, v in ingest) == [0, 10, 20, 30, 40]
    changes = read(names.changes_topic())
    events = [orjson.loads(v) for _, v in changes]
    assert {e["op"] for e in events} <= {"i", "u"}
    assert sorted({e["after"]["total"]["value"] for e in events}) == [0, 10, 20, 30, 40]  # at least once
    assert all(e["source"]["table"] == "totals" for e in events)
