"""The log port's contract, for every adapter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from podium.log.sqlite import SqliteLog


@pytest.fixture(params=["sqlite"])
async def log(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqliteLog]:
    adapter = SqliteLog(tmp_path / "log.db")
    await adapter.open()
    yield adapter
    await adapter.close()


async def test_appends_come_back_in_order_with_growing_positions(log: SqliteLog) -> None:
    first = await log.append([("k", b"1"), ("k", b"2")])
    second = await log.append([("k", b"3")])
    offsets = [p.offset for p in first + second]
    assert offsets == sorted(offsets) and len(set(offsets)) == 3
    records = await log.consumer("g").poll(10, 0.1)
    assert [r.value for r in records] == [b"1", b"2", b"3"]
    assert [r.position for r in records] == first + second


async def test_concurrent_appends_each_get_their_own_records_positions(log: SqliteLog) -> None:
    # Appends made together may share one write (group commit): each still learns
    # exactly where its own records are.
    batches = [[(f"k{i}", f"{i}.{j}".encode()) for j in range(i % 4)] for i in range(40)]
    answers = await asyncio.gather(*(log.append(batch) for batch in batches))
    records = await log.consumer("g").poll(1000, 0.1)
    where = {r.position: r.value for r in records}
    assert len(records) == sum(len(b) for b in batches)
    for batch, positions in zip(batches, answers, strict=True):
        assert [where[p] for p in positions] == [value for _, value in batch]


async def test_poll_times_out_empty_then_wakes_on_append(log: SqliteLog) -> None:
    consumer = log.consumer("g")
    assert await consumer.poll(10, 0.05) == []
    await log.append([("k", b"x")])
    assert [r.value for r in await consumer.poll(10, 1.0)] == [b"x"]


async def test_a_new_member_resumes_after_the_last_commit(log: SqliteLog) -> None:
    await log.append([("k", str(i).encode()) for i in range(5)])
    consumer = log.consumer("g")
    records = await consumer.poll(3, 0.1)
    await consumer.commit(records[:2])
    again = log.consumer("g")
    assert [r.value for r in await again.poll(10, 0.1)] == [b"2", b"3", b"4"]


async def test_rewind_goes_back_to_the_commit(log: SqliteLog) -> None:
    await log.append([("k", str(i).encode()) for i in range(4)])
    consumer = log.consumer("g")
    await consumer.commit(await consumer.poll(1, 0.1))
    await consumer.poll(10, 0.1)
    await consumer.rewind()
    assert [r.value for r in await consumer.poll(10, 0.1)] == [b"1", b"2", b"3"]


async def test_groups_are_independent(log: SqliteLog) -> None:
    await log.append([("k", b"a")])
    a, b = log.consumer("a"), log.consumer("b")
    await a.commit(await a.poll(10, 0.1))
    assert [r.value for r in await b.poll(10, 0.1)] == [b"a"]


async def test_prune_keeps_what_a_group_has_not_committed(log: SqliteLog) -> None:
    await log.append([("k", str(i).encode()) for i in range(4)])
    consumer = log.consumer("g")
    await consumer.commit(await consumer.poll(2, 0.1))
    assert await log.prune(retention_s=0) == 2
    assert [r.value for r in await log.consumer("g").poll(10, 0.1)] == [b"2", b"3"]
