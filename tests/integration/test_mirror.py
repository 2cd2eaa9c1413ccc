"""A region's ingest log mirrored home across a link (podium/tools/simulate/mirror.py): every
record copied once, in order, across partitions, heals and lost answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from podium.log.sqlite import SqliteLog
from podium.tools.simulate.link import Link
from podium.tools.simulate.mirror import LogMirror


@pytest.fixture
async def logs(tmp_path: Path) -> AsyncIterator[tuple[SqliteLog, SqliteLog]]:
    region, home = SqliteLog(tmp_path / "region.db"), SqliteLog(tmp_path / "home.db")
    await region.open()
    await home.open()
    yield region, home
    await region.close()
    await home.close()


async def home_values(home: SqliteLog, want: int, timeout_s: float = 10.0) -> list[bytes]:
    """The home log's values once it holds `want` records (or what it holds at the time-out),
    and a moment more, so that a copy made twice would show."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    consumer = home.consumer(f"check-{loop.time()}")
    values: list[bytes] = []
    try:
        while loop.time() < deadline and len(values) < want:
            values += [r.value for r in await consumer.poll(1000, 0.1)]
        values += [r.value for r in await consumer.poll(1000, 0.5)]
    finally:
        await consumer.close()
    return values


def records(first: int, count: int) -> list[tuple[str, bytes]]:
    return [(f"b:u{i % 3}", str(i).encode()) for i in range(first, first + count)]


async def test_records_appended_during_a_partition_are_copied_once_after_the_heal(
    logs: tuple[SqliteLog, SqliteLog],
) -> None:
    region, home = logs
    link = Link("home-region", 0.02, timeout_s=0.2)
    mirror = LogMirror("ap", region, home, link, wait_s=0.05)
    stop = asyncio.Event()
    running = asyncio.create_task(mirror.run(stop))
    try:
        await region.append(records(0, 50))
        assert len(await home_values(home, 50)) == 50
        link.cut()
        await region.append(records(50, 50))
        await asyncio.sleep(0.5)
        assert len(await home_values(home, 100, timeout_s=0.3)) == 50  # nothing crosses a cut
        link.heal()
        await region.append(records(100, 50))
        assert await home_values(home, 150) == [str(i).encode() for i in range(150)]
        assert await home.mirrored_next("ap") == 151
    finally:
        stop.set()
        await running


async def test_records_fetched_again_after_a_lost_commit_are_not_copied_twice(
    logs: tuple[SqliteLog, SqliteLog], monkeypatch: pytest.MonkeyPatch
) -> None:
    region, home = logs
    link = Link("home-region", 0.02, timeout_s=0.2)
    append_mirrored = home.append_mirrored
    cut = [False]

    async def append_then_cut(source: str, copied: Any, next_seq: int) -> None:
        await append_mirrored(source, copied, next_seq)
        if not cut[0]:
            # Copied home, but the commit to the region is lost with the link: the mirror
            # fetches these records again once the link heals.
            cut[0] = True
            link.cut()
            asyncio.get_running_loop().call_later(0.3, link.heal)

    monkeypatch.setattr(home, "append_mirrored", append_then_cut)
    await region.append(records(0, 20))
    mirror = LogMirror("eu", region, home, link, wait_s=0.05)
    stop = asyncio.Event()
    running = asyncio.create_task(mirror.run(stop))
    try:
        await asyncio.sleep(0.5)
        await region.append(records(20, 20))
        assert await home_values(home, 40) == [str(i).encode() for i in range(40)]
        assert cut[0] and mirror.skipped == 20
    finally:
        stop.set()
        await running
