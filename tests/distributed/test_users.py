"""Shadow-bans and privacy deletes on the real stack, with `podium api`, `podium db-worker`
and `podium rank-worker` each a process of its own: the ban crosses Kafka, Cassandra,
Debezium and Redis, and the live hub's Redis history, and the api process only polls
the index for visibility."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import uuid
from typing import Any

import httpx
import pytest

from podium.log.kafka import KafkaLog
from podium.pipeline.ingest import Ingest, Submission
from podium.plumbing import names
from podium.store.cassandra import slot_of
from tests.distributed.stack import cassandra_cluster, eventually
from tests.e2e.server import PodiumProcess

pytestmark = pytest.mark.distributed


def follow(url: str, frames: list[dict[str, Any]], stop: threading.Event) -> None:
    with contextlib.suppress(httpx.HTTPError), httpx.stream("GET", url, timeout=None) as answer:
        for line in answer.iter_lines():
            if line.startswith("data:"):
                frames.append(json.loads(line[5:]))
            if stop.is_set():
                return


def submit_named(board: str, user: str, score: int, name: str, metadata: str) -> None:
    """A score with a display name and metadata, appended to the ingest topic as the api
    would (the v1 body has no fields for them yet)."""

    async def run() -> None:
        log = KafkaLog("127.0.0.1:9092", names.INGEST_TOPIC)
        try:
            await Ingest(log).submit([Submission(board, user, score, None, 0, None, name, metadata)])
        finally:
            await log.close()

    asyncio.run(run())


def stored(board: str, user: str) -> Any:
    cluster = cassandra_cluster(protocol_version=5)
    try:
        return (
            cluster.connect()
            .execute(
                "SELECT removed, total, display_name, metadata FROM podium.totals "
                "WHERE board=%s AND slot=%s AND user_id=%s",
                (board, slot_of(user), user),
            )
            .one()
        )
    finally:
        cluster.shutdown()


def test_bans_and_privacy_deletes_across_the_processes(
    distributed_processes: dict[str, PodiumProcess], board_name: str
) -> None:
    api = distributed_processes["api"].base_url
    arena, golf = board_name, f"{board_name}-golf"
    suffix = uuid.uuid4().hex[:8]
    ada, bob, cy, last = (f"{u}-{suffix}" for u in ("ada", "bob", "cy", "last"))
    http = httpx.Client(base_url=api, timeout=60)
    assert http.put(f"/v1/boards/{arena}", json={}).status_code == 201
    assert http.put(f"/v1/boards/{golf}", json={"order": "asc", "operator": "best"}).status_code == 201

    def batch(board: str, scores: dict[str, int]) -> None:
        body = {"scores": [{"user_id": u, "score": s} for u, s in scores.items()]}
        assert http.post(f"/v1/boards/{board}/scores/batch?wait=true", json=body).status_code == 200

    def top(board: str) -> list[tuple[int, str, int]]:
        return [(e["rank"], e["user_id"], e["score"]) for e in http.get(f"/v1/boards/{board}/top").json()["entries"]]

    # The name and metadata on golf: the live stream followed below is arena's (a live frame
    # with metadata in it cannot be encoded yet, see podium/api/live.py).
    submit_named(golf, ada, 60, "Ada L.", '{"car":"red"}')
    assert eventually(lambda: http.get(f"/v1/boards/{golf}/users/{ada}").json().get("display_name") == "Ada L.")
    batch(golf, {bob: 70})
    batch(arena, {ada: 50, bob: 40, cy: 30})

    frames: list[dict[str, Any]] = []
    stop = threading.Event()
    reader = threading.Thread(target=follow, args=(f"{api}/v1/boards/{arena}/events?top=5", frames, stop), daemon=True)
    reader.start()
    assert eventually(lambda: frames) and frames[0]["type"] == "snapshot"
    try:
        # The ban: gone from others' views, ranks close up; its own view, new scores and all.
        hidden = http.post(f"/v1/boards/{arena}/users/{bob}/hide")
        assert (hidden.status_code, hidden.json()) == (200, {"board": arena, "user_id": bob, "hidden": True})
        assert top(arena) == [(1, ada, 50), (2, cy, 30)]
        around = http.get(f"/v1/boards/{arena}/users/{cy}/around?radius=2").json()["entries"]
        assert [(e["rank"], e["user_id"]) for e in around] == [(1, ada), (2, cy)]
        batch(arena, {bob: 100, last: 1})
        assert top(arena) == [(1, ada, 50), (2, cy, 30), (3, last, 1)]
        mine = http.get(f"/v1/boards/{arena}/users/{bob}").json()
        assert (mine["rank"], mine["score"]) == (1, 140)
        assert http.get(f"/v1/boards/{arena}").json()["users"] == 3

        def changes() -> list[dict[str, Any]]:
            return [c for f in frames for c in f.get("changes", [])]

        def of_bob() -> list[tuple[int, int | None]]:
            return [(c["score"], c["rank"]) for c in changes() if c["user_id"] == bob]

        # The batch's changes may come in separate frames, in either order: wait for all three.
        assert eventually(lambda: len(of_bob()) >= 2 and any(c["user_id"] == last for c in changes()))
        assert of_bob() == [(0, None), (0, None)]  # the ban and the new score: removals to others
        assert bob in [e["user_id"] for e in frames[0]["top"]]  # the snapshot, before the ban
        assert all(bob not in [e["user_id"] for e in f.get("top", [])] for f in frames[1:])

        shown = http.delete(f"/v1/boards/{arena}/users/{bob}/hide")
        assert (shown.status_code, shown.json()["hidden"]) == (200, False)
        assert top(arena) == [(1, bob, 140), (2, ada, 50), (3, cy, 30), (4, last, 1)]
        assert eventually(lambda: of_bob()[-1] == (140, 1))
    finally:
        stop.set()

    # The privacy delete: off both boards and every friend list, name and metadata gone.
    assert http.put(f"/v1/users/{ada}/friends", json={"friends": [bob]}).status_code == 200
    assert http.put(f"/v1/users/{bob}/friends", json={"friends": [ada, cy]}).status_code == 200
    gone = http.delete(f"/v1/users/{ada}")
    assert gone.status_code == 200, gone.text
    assert gone.json() == {"user_id": ada, "boards": sorted([arena, golf]), "friends_removed": 2}
    assert top(arena) == [(1, bob, 140), (2, cy, 30), (3, last, 1)]
    assert top(golf) == [(1, bob, 70)]
    for board in (arena, golf):
        assert http.get(f"/v1/boards/{board}/users/{ada}").status_code == 404
        row = stored(board, ada)
        assert (row.removed, row.total, row.display_name or "", row.metadata or "") == (True, 0, "", "")
    assert http.get(f"/v1/users/{bob}/friends").json()["friends"] == [cy]
    friends = http.get(f"/v1/boards/{arena}/users/{bob}/friends").json()["entries"]
    assert [e["user_id"] for e in friends] == [bob, cy]
    exported = http.get(f"/v1/users/{ada}/export").json()
    assert (exported["friends"], exported["followers"]) == ([], [])
    assert [(e["board"], e["removed"], e["display_name"], e["metadata"]) for e in exported["entries"]] == [
        (board, True, None, None) for board in sorted([arena, golf])
    ]
    http.close()
