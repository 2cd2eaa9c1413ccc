"""Jobs recorded in the job store, with leases (podium/usecases/jobs.py), as several processes see
them: each registry here is one process, each over its own connection to one SQLite job
store, sharing a real SQLite store and one rank index (as api processes share Redis)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from podium.domain.totals import LogPosition, Total
from podium.index.generations import GenerationalRankIndex, MemoryGenerations
from podium.index.memory import MemoryRankIndex
from podium.jobstore.base import JobRecord, JobStore
from podium.jobstore.sqlite import SqliteJobStore
from podium.plumbing import names
from podium.store.sqlite import SqliteStore
from podium.usecases.board_settings import Boards
from podium.usecases.jobs import Job, Jobs, now_us
from podium.usecases.rebuild import end_abandoned_rebuild, rebuild
from podium.usecases.reconcile import Reconciler, ReconcileSettings
from podium.usecases.reconcile_schedule import period_job_id, run_every
from tests.distributed.stack import stack_store
from tests.integration.test_reconcile import kinds, ranks_equal_the_store, seeded

LEASE_S = 0.6


class Processes:
    """Job registries over one job store, each with a connection of its own, one per make();
    all closed at the end."""

    def __init__(
        self, connect: Callable[[], Awaitable[JobStore]], boards: Boards, index: GenerationalRankIndex
    ) -> None:
        self.connect, self.boards, self.index = connect, boards, index
        self.made: list[tuple[Jobs, JobStore]] = []

    async def make(self, owner: str, lease_s: float = LEASE_S) -> Jobs:
        store = await self.connect()

        async def end_rebuild(record: JobRecord) -> str | None:
            return await end_abandoned_rebuild(record, self.boards, self.index)

        jobs = Jobs(store, lease_s=lease_s, enders={"rebuild": end_rebuild}, owner=owner)
        jobs.open()
        self.made.append((jobs, store))
        return jobs

    async def close(self) -> None:
        for jobs, store in reversed(self.made):
            await jobs.close()
            await store.close()


@pytest.fixture
def index() -> GenerationalRankIndex:
    return GenerationalRankIndex(MemoryRankIndex(), MemoryGenerations())


@pytest.fixture(params=["sqlite", pytest.param("cassandra", id="distributed", marks=pytest.mark.distributed)])
async def processes(
    request: pytest.FixtureRequest, tmp_path: Path, store: SqliteStore, index: GenerationalRankIndex
) -> AsyncIterator[Processes]:
    """The job store is SQLite (a file, a connection each) or the stack's Cassandra (the
    jobs table, written with lightweight transactions, through one session)."""
    if request.param == "sqlite":

        async def sqlite() -> JobStore:
            jobs = SqliteJobStore(tmp_path / "jobs.db")
            await jobs.open()
            return jobs

        procs = Processes(sqlite, Boards(store), index)
        yield procs
        await procs.close()
        return
    from podium.jobstore.cassandra import CassandraJobStore

    async with stack_store(request) as cassandra:

        async def on_cassandra() -> JobStore:
            return CassandraJobStore(cassandra)

        procs = Processes(on_cassandra, Boards(store), index)
        yield procs
        await procs.close()


async def until(check: Callable[[], Any], timeout_s: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (value := await check()):
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.02)
    return value


class HangingStore:
    """The store, except that reading a board's totals stops for good after the first
    chunk: a rebuild caught mid-fill, as in a process about to die."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self.reading = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def totals_of(self, board: str, chunk_size: int) -> AsyncIterator[list[Total]]:
        async for chunk in self._store.totals_of(board, chunk_size):
            yield chunk
            self.reading.set()
            await asyncio.Event().wait()


async def test_every_process_sees_a_job_and_its_progress(processes: Processes) -> None:
    one, two = await processes.make("api-1"), await processes.make("api-2")
    go = asyncio.Event()

    async def work(job: Job) -> None:
        job.total, job.step = 10, "replaying"
        await go.wait()
        job.done = job.applied = 10

    started = await one.start("replay", work)
    seen = await two.get(started.id)
    assert (seen.id, seen.kind, seen.state, seen.owner) == (started.id, "replay", "running", "api-1")
    assert seen.to_json()["lease_until"] is not None
    # The owner's renewals carry its progress to the others.
    await until(lambda: _step(two, started.id, "replaying"), timeout_s=LEASE_S * 3)
    go.set()
    ended = await until(lambda: _ended(two, started.id))
    assert (ended.state, ended.done, ended.applied, ended.error) == ("done", 10, 10, None)
    assert ended.to_json()["lease_until"] is None


async def _step(jobs: Jobs, job_id: str, step: str) -> bool:
    return (await jobs.get(job_id)).step == step


async def _ended(jobs: Jobs, job_id: str) -> Job | None:
    job = await jobs.get(job_id)
    return job if job.state != "running" else None


async def test_a_rebuild_whose_process_stopped_is_ended_within_its_lease(
    processes: Processes, store: SqliteStore, index: GenerationalRankIndex
) -> None:
    """The api running a rebuild stops renewing its lease (its keeper stopped, as in a
    SIGKILL) with a generation marked rebuilding: another process ends the job within the
    lease, the double writes stop and the old generation goes on serving."""
    b, _ = await seeded(store, index.inner)
    dying, other = await processes.make("api-1"), await processes.make("api-2")
    hanging = HangingStore(store)
    job = await dying.start(
        "rebuild",
        lambda j: rebuild(j, hanging, processes.boards, index, [b.name], chunk_size=10),  # type: ignore[arg-type]
    )
    await asyncio.wait_for(hanging.reading.wait(), 10)
    generation = (await index.generations.read(b.name)).rebuilding
    assert generation is not None
    assert orjson.loads((await other.store.find(job.id)).detail) == {"board": b.name, "generation": generation}  # type: ignore[union-attr]
    assert dying._keeper is not None
    dying._keeper.cancel()  # no renewal from here on
    stopped_at = time.monotonic()
    ended = await until(lambda: _ended(other, job.id), timeout_s=LEASE_S * 4)
    assert time.monotonic() - stopped_at < LEASE_S + LEASE_S / 3 + 0.5
    assert ended.state == "failed" and ended.owner == "api-2", ended
    assert ended.error is not None and "the old generation still serves" in ended.error
    record = await index.generations.read(b.name)
    assert (record.current, record.rebuilding) == (0, None)
    abandoned = names.generation_board(b.name, generation)
    assert abandoned not in index.inner._boards  # type: ignore[attr-defined]
    # Writes reach the serving generation only, and every rank is the store's.
    newer = Total(b.name, "u00", 10_000, 4, 9_000, LogPosition(0, 999))
    await store.write_totals([newer], [])
    await index.apply(b, [newer])
    assert abandoned not in index.inner._boards  # type: ignore[attr-defined]
    await ranks_equal_the_store(index, store, b)
    # A new rebuild needs no force.
    assert (await index.begin_rebuild(b)) == generation + 1


async def test_a_process_that_lost_its_lease_stops_its_job(processes: Processes) -> None:
    """A process that stalled past its lease finds, at its next renewal, that another took
    the job: it stops working on it rather than work on beside the other."""
    stalled = await processes.make("api-1")
    stopped = asyncio.Event()

    async def work(job: Job) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()

    job = await stalled.start("replay", work)
    seen = await stalled.store.find(job.id)
    assert seen is not None
    taken = seen.but(owner="api-2", lease_until_us=now_us() + 60_000_000, step="ending: its process stopped")
    assert await stalled.store.save(taken, seen)
    await asyncio.wait_for(stopped.wait(), LEASE_S * 3)
    assert job.state == "failed" and "no longer held by this process" in (job.error or "")
    assert await stalled.store.find(job.id) == taken  # the taker's record stands


async def test_one_reconcile_a_period_whichever_processes_run_the_schedule(
    processes: Processes, store: SqliteStore, tmp_path: Path
) -> None:
    """Three rank-workers run the schedule, a period a second: each period that began while
    they ran is reconciled once, by one of them, and the first repairs the drift."""
    index = MemoryRankIndex()
    b, totals = await seeded(store, index)
    planted = index._boards[b.name]
    planted.ranked.remove(planted.key(totals[0]))  # u00 missing
    reconciler = Reconciler(store, Boards(store), index, ReconcileSettings(settle_s=0))
    workers = [await processes.make(f"rank-worker-{i}") for i in range(3)]
    stop = asyncio.Event()
    began_s = time.time()
    runs = [
        asyncio.create_task(run_every(reconciler, jobs, 1.0, tmp_path / f"w{i}", stop, check_s=0.05))
        for i, jobs in enumerate(workers)
    ]
    reports = lambda: sorted(tmp_path.glob("w*/reconcile/report-*.json"), key=lambda p: p.name)  # noqa: E731
    await until(lambda: _true(len(reports()) >= 2))
    stop.set()
    await asyncio.gather(*runs)
    ended_s = time.time()
    periods = {period_job_id(1.0, at_s) for at_s in range(int(began_s), int(ended_s) + 1)}
    found = [await workers[0].store.find(period) for period in sorted(periods)]
    done = [r for r in found if r is not None and r.state == "done"]
    assert len(reports()) == len(done) >= 2  # one report a period: never two runs of one
    assert all(r.kind == "reconcile" and r.done == 1 for r in done)
    assert period_job_id(1.0, began_s) not in {r.id for r in done}  # it began before they did
    first = orjson.loads(reports()[0].read_bytes())
    assert kinds(first) == {"u00": "missing"} and first["totals"]["repaired"] == 1
    await ranks_equal_the_store(index, store, b)


async def _true(value: Any) -> Any:
    return value


async def test_a_failed_reconcile_is_claimed_again(processes: Processes) -> None:
    first, second = await processes.make("rank-worker-1"), await processes.make("rank-worker-2")

    async def fails(job: Job) -> None:
        raise RuntimeError("the engine's own words")

    day = f"reconcile-{uuid.uuid4().hex[:12]}"  # the job store may be shared: an id of this test's own
    failed = await first.claim(day, "reconcile", fails)
    assert failed is not None
    await first.wait(failed)
    assert (failed.state, failed.error) == ("failed", "internal error")

    async def works(job: Job) -> None:
        job.done = 1

    again = await second.claim(day, "reconcile", works)
    assert again is not None and (await second.wait(again)).state == "done"
    assert await first.claim(day, "reconcile", works) is None  # done: never again


async def test_the_owners_renewals_and_its_notes_never_collide(processes: Processes) -> None:
    """The keeper renews while the job notes its detail: both write from this process's last
    record, and neither may take the other's write for another process's take-over."""
    jobs = await processes.make("api-1", lease_s=0.03)  # a renewal every 10 ms

    async def noting(job: Job) -> None:
        for generation in range(150):
            await job.note(board="arena", generation=generation)
            await asyncio.sleep(0.002)

    job = await jobs.wait(await jobs.start("rebuild", noting))
    assert (job.state, job.error) == ("done", None)


async def test_a_rebuild_that_died_after_its_swap_has_its_old_copy_dropped(
    processes: Processes, store: SqliteStore, index: GenerationalRankIndex
) -> None:
    b, totals = await seeded(store, index.inner)
    generation = await index.begin_rebuild(b)
    await index.fill(b, generation, totals)
    assert await index.swap(b, generation) == 0
    dead = JobRecord(
        f"rebuild-{uuid.uuid4().hex[:12]}",  # the job store may be shared: an id of this test's own
        "rebuild",
        "running",
        "api-gone",
        now_us() - 1,
        1,
        detail=f'{{"board": "{b.name}", "dropping": 0}}',
    )
    assert await processes.make("api-2") and await processes.made[0][1].add(dead)
    ended = await until(lambda: _ended(processes.made[0][0], dead.id), timeout_s=LEASE_S * 2)
    assert ended.state == "failed" and "was swapped in" in (ended.error or ""), ended
    assert names.generation_board(b.name, 0) not in index.inner._boards  # type: ignore[attr-defined]
    await ranks_equal_the_store(index, store, b)
