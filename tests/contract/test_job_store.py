"""The job store port's contract, for every adapter: SQLite (embedded) and Cassandra
(distributed, on the local stack, its writes lightweight transactions). Job ids are each
test's own: the Cassandra keyspace is shared."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from podium.jobstore.base import JobRecord, JobStore
from tests.distributed.stack import stack_store


@pytest.fixture(params=["sqlite", pytest.param("cassandra", id="distributed", marks=pytest.mark.distributed)])
async def job_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobStore]:
    if request.param == "sqlite":
        from podium.jobstore.sqlite import SqliteJobStore

        sqlite = SqliteJobStore(tmp_path / "jobs.db")
        await sqlite.open()
        yield sqlite
        await sqlite.close()
        return
    from podium.jobstore.cassandra import CassandraJobStore

    async with stack_store(request) as store:
        yield CassandraJobStore(store)


def job(owner: str = "api-1", lease_until_us: int = 10_000, **changes: object) -> JobRecord:
    record = JobRecord(f"rebuild-{uuid.uuid4().hex[:12]}", "rebuild", "running", owner, lease_until_us, 1_000)
    return record.but(**changes)


async def test_a_job_is_found_as_added_and_added_once(job_store: JobStore) -> None:
    record = job(detail='{"board": "arena"}', step="counting")
    assert await job_store.add(record)
    assert await job_store.find(record.id) == record
    assert not await job_store.add(record.but(owner="api-2"))  # the first one stays
    assert await job_store.find(record.id) == record
    assert await job_store.find("rebuild-nope") is None


async def test_the_owner_renews_and_ends_its_job(job_store: JobStore) -> None:
    record = job()
    await job_store.add(record)
    renewed = record.but(lease_until_us=20_000, done=5, total=9, applied=4, step="rebuilding arena")
    assert await job_store.save(renewed, record)
    assert await job_store.find(record.id) == renewed
    ended = renewed.but(state="done", step="done", finished_at_us=30_000)
    assert await job_store.save(ended, renewed)
    assert await job_store.find(record.id) == ended
    assert record.id not in {r.id for r in await job_store.running()}


async def test_a_write_from_a_stale_view_is_refused(job_store: JobStore) -> None:
    """The owner renewed after another process read the record: that process cannot take it
    over from what it read; nor can the owner write over a take-over."""
    record = job()
    await job_store.add(record)
    renewed = record.but(lease_until_us=20_000)
    assert await job_store.save(renewed, record)
    assert not await job_store.save(record.but(owner="api-2", lease_until_us=50_000), record)
    taken = renewed.but(owner="api-2", lease_until_us=50_000)
    assert await job_store.save(taken, renewed)
    assert not await job_store.save(renewed.but(lease_until_us=60_000, done=7), renewed)
    assert await job_store.find(record.id) == taken


async def test_of_two_takers_one_wins(job_store: JobStore) -> None:
    record = job()
    await job_store.add(record)
    takers = [record.but(owner=f"api-{i}", lease_until_us=90_000 + i) for i in range(2)]
    won = await asyncio.gather(*(job_store.save(t, record) for t in takers))
    assert sorted(won) == [False, True]
    assert await job_store.find(record.id) == takers[won.index(True)]


async def test_running_lists_only_running_jobs_and_a_failed_one_can_be_run_again(job_store: JobStore) -> None:
    running, failed = job(), job(state="failed", error="its api process stopped")
    for record in (running, failed):
        await job_store.add(record)
    listed = {r.id: r for r in await job_store.running()}
    assert listed.get(running.id) == running and failed.id not in listed
    again = failed.but(state="running", owner="worker-2", error=None, lease_until_us=70_000)
    assert await job_store.save(again, failed)
    assert {r.id for r in await job_store.running()} >= {running.id, failed.id}
