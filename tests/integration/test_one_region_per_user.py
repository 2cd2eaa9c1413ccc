"""One region per user (docs/global.md): the home db-worker records the region a user's
first event on a board came through and refuses events from any other; an api refuses them
before appending wherever it reads the user's totals (podium/usecases/user_regions.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from podium.api.app import create_app
from podium.domain.boards import Board
from podium.domain.totals import LogPosition, ScoreSubmitted, Total
from podium.log.base import LogRecord
from podium.log.sqlite import SqliteLog
from podium.pipeline.codec import encode_event, log_key
from podium.pipeline.db_worker import DbWorker, DbWorkerSettings
from podium.plumbing import names
from podium.settings import Settings
from podium.store.sqlite import SqliteStore
from podium.usecases.board_settings import Boards

EU = names.mirrored_ingest_topic("eu")
HOME = {names.INGEST_TOPIC: "us", EU: "eu"}  # what the home db-worker of us with regions us,eu reads


@pytest.fixture
async def home(tmp_path: Path) -> AsyncIterator[tuple[SqliteStore, DbWorker]]:
    log = SqliteLog(tmp_path / "log.db")
    store = SqliteStore(tmp_path / "store.db")
    await log.open()
    await store.open()
    boards = Boards(store)
    await boards.create(Board("b"))
    yield store, DbWorker(log.consumer("db-worker"), store, boards, DbWorkerSettings(topic_regions=HOME))
    await log.close()
    await store.close()


def record(topic: str, offset: int, user: str, score: int) -> LogRecord:
    """A record as the db-worker reads it from `topic`; MirrorMaker 2 keeps the partition."""
    event = ScoreSubmitted("b", user, score, None, offset * 10, region=HOME[topic])
    return LogRecord(LogPosition(0, offset), log_key("b", user), encode_event(event), topic)


async def stored(store: SqliteStore, user: str) -> Total:
    return (await store.load_totals([("b", user)]))[("b", user)]


async def test_a_users_events_from_a_second_region_are_refused_at_home(home: tuple[SqliteStore, DbWorker]) -> None:
    store, worker = home
    assert (await worker.apply([record(EU, 500, "ada", 10), record(names.INGEST_TOPIC, 7, "bob", 4)])).written == 2
    assert (await stored(store, "ada")).region == "eu" and (await stored(store, "bob")).region == "us"
    # ada through us: offset 3 would have passed for a redelivery of eu's 500 (lost without a
    # word), offset 900 for a later event (then eu's next, 501, for a redelivery of it).
    refused = await worker.apply([record(names.INGEST_TOPIC, 3, "ada", 1), record(names.INGEST_TOPIC, 900, "ada", 1)])
    assert (refused.wrong_region, refused.written, refused.redelivered) == (2, 0, 0)
    ada = await stored(store, "ada")
    assert (ada.total, ada.version, ada.position) == (10, 1, LogPosition(0, 500))
    # Through its own region ada goes on, exactly once; bob is refused through eu.
    again = await worker.apply([record(EU, 500, "ada", 10), record(EU, 501, "ada", 5), record(EU, 502, "bob", 9)])
    assert (again.redelivered, again.written, again.wrong_region) == (1, 1, 1)
    assert ((await stored(store, "ada")).total, (await stored(store, "bob")).total) == (15, 4)


async def test_one_region_records_no_region(tmp_path: Path) -> None:
    """A deployment of one region (the db-worker reads one topic): nothing is recorded, so one
    that adds regions later finds its totals free to take their next event's region."""
    log, store = SqliteLog(tmp_path / "log.db"), SqliteStore(tmp_path / "store.db")
    await log.open()
    await store.open()
    try:
        boards = Boards(store)
        await boards.create(Board("b"))
        worker = DbWorker(log.consumer("db-worker"), store, boards, DbWorkerSettings())
        await worker.apply([record(names.INGEST_TOPIC, 1, "ada", 3), record(EU, 2, "ada", 4)])
        ada = await stored(store, "ada")
        assert (ada.total, ada.region) == (7, "")
    finally:
        await log.close()
        await store.close()


def test_an_api_refuses_a_users_event_from_a_second_region_before_appending(tmp_path: Path) -> None:
    settings = Settings(data=tmp_path / "data", region="us", auth="off", rate_key_per_s=0, rate_address_per_s=0)
    with TestClient(create_app(settings)) as client:
        assert client.put("/v1/boards/b", json={}).status_code == 201
        # ada entered board b through eu (recorded at home by the db-worker, as above).
        svc = client.app.state.services  # type: ignore[attr-defined]
        ada = Total("b", "ada", 10, 1, 1, LogPosition(0, 500), region="eu")
        asyncio.run(svc.store.write_totals([ada], []))
        for method, path, body in (
            ("POST", "/v1/boards/b/scores?wait=true", {"user_id": "ada", "score": 5}),
            (
                "POST",
                "/v1/boards/b/scores/batch?wait=true",
                {"scores": [{"user_id": "bob", "score": 1}, {"user_id": "ada", "score": 5}]},
            ),
            ("DELETE", "/v1/boards/b/users/ada", None),
            ("POST", "/v1/boards/b/users/ada/hide", None),
            ("DELETE", "/v1/users/ada", None),
        ):
            answer = client.request(method, path, json=body)
            assert answer.status_code == 409, (method, path, answer.text)
            error = answer.json()["error"]
            assert (error["code"], error["user_region"]) == ("wrong_region", "eu")
            assert "'eu'" in error["message"] and "'us'" in error["message"]
        # Nothing was appended: bob, in the refused batch, has no score; ada's total is eu's.
        assert client.get("/v1/boards/b/users/bob").status_code == 404
        export = client.get("/v1/users/ada/export").json()
        assert [(e["score"], e["region"]) for e in export["entries"]] == [(10, "eu")]
        # A user of this region is served as ever.
        mine = client.post("/v1/boards/b/scores?wait=true", json={"user_id": "cy", "score": 2})
        assert mine.status_code == 200 and mine.json()["rank"] == 2
