"""A process's region (docs/global.md): on every event it appends, and in its metrics."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from podium.api.app import create_app
from podium.log.sqlite import SqliteLog
from podium.pipeline.codec import decode_event
from podium.pipeline.ingest import Ingest, Submission
from podium.settings import Settings


async def test_every_event_carries_the_region_it_was_accepted_in(tmp_path: Path) -> None:
    log = SqliteLog(tmp_path / "log.db")
    await log.open()
    ingest = Ingest(log, region="ap")
    try:
        await ingest.submit([Submission("b", "u", 5)])
        await ingest.hide("b", "u", True)
        await ingest.remove("b", "u")
        records = await log.consumer("test").poll(10, 1.0)
    finally:
        await log.close()
    assert [decode_event(r.value).region for r in records] == ["ap", "ap", "ap"]


def test_the_metrics_say_which_region_a_process_serves(tmp_path: Path) -> None:
    settings = Settings(data=tmp_path / "data", region="eu", home_region="us")
    with TestClient(create_app(settings)) as client:
        text = client.get("/metrics").text
    assert 'podium_region_info{home_region="us",region="eu"} 1.0' in text
