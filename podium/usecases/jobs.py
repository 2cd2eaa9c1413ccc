"""Admin jobs (rebuild, replay, reconcile) run in the background of one process and are
recorded in the job store (podium/jobstore/), so every process answers for every job and
the CLI can show a progress bar whichever api process it asks.

A job is held by the process that runs it through a lease in its record: the owner
renews it every third of `lease_s`, writing the job's progress with it. A job whose lease
ran out while it was still running lost its process (a SIGKILL, a lost machine): any
process's keeper takes the record over (one conditional write: one process wins) and
ends it cleanly with its kind's `ender` (a rebuild's stops the double writes and keeps
the old generation serving), then marks it failed, saying so in Podium's words."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from podium.errors import BackendUnavailable, Conflict, NotFound, public_message
from podium.jobstore.base import JobRecord, JobStore
from podium.plumbing.stopping import stop_requested

log = logging.getLogger("podium.usecases.jobs")

LEASE_S = 12.0

# What a job ended for its lost process says, by kind.
ABANDONED = {
    "rebuild": "its api process stopped renewing the job's lease: the rebuild was ended, writes go to the "
    "current generation only and the old generation still serves; start the rebuild again",
    "replay": "its api process stopped renewing the job's lease: the replay was ended part way; start it again "
    "(a replay is harmless to repeat)",
    "reconcile": "its process stopped renewing the job's lease: the reconcile was ended part way; another process "
    "with the rank-worker role takes it over",
}
SHUTTING_DOWN = "stopped: the process is shutting down"


class JobNotFound(NotFound):
    code = "job_not_found"


class LeaseLost(Conflict):
    """This process no longer holds the job: another ended it or took it over."""

    code = "lease_lost"


def now_us() -> int:
    return time.time_ns() // 1000


def process_owner() -> str:
    """Who runs a job, as its record names it: this host and process, and a random part
    (a pid is reused after a restart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(slots=True)
class Job:
    id: str
    kind: str  # "rebuild" | "replay" | "reconcile"
    state: str = "running"  # running → done | failed
    done: int = 0  # totals or changes read so far
    total: int = 0  # how many there are to read (known once the job has counted them)
    applied: int = 0  # how many of them changed the rank index
    step: str = "starting"
    error: str | None = None
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    owner: str = ""
    lease_until_us: int = 0
    detail: dict[str, Any] = field(default_factory=dict)  # what another process needs to end it
    # Set by the process that runs the job: writes its record now (see note()).
    keeper: Callable[[Job], Awaitable[None]] | None = field(default=None, repr=False, compare=False)

    async def note(self, **detail: Any) -> None:
        """Replace the job's detail and record it at once, not at the next renewal: what a
        process ending the job for this one must know (a rebuild's generation) cannot wait.
        Raises LeaseLost if this process no longer holds the job."""
        self.detail = detail
        if self.keeper is not None:
            await self.keeper(self)

    def record(self) -> JobRecord:
        return JobRecord(
            id=self.id,
            kind=self.kind,
            state=self.state,
            owner=self.owner,
            lease_until_us=self.lease_until_us,
            started_at_us=int(self.started_at * 1_000_000),
            finished_at_us=None if self.finished_at is None else int(self.finished_at * 1_000_000),
            done=self.done,
            total=self.total,
            applied=self.applied,
            step=self.step,
            error=self.error,
            detail=orjson.dumps(self.detail).decode() if self.detail else "",
        )

    @classmethod
    def of(cls, r: JobRecord) -> Job:
        return cls(
            r.id,
            r.kind,
            r.state,
            r.done,
            r.total,
            r.applied,
            r.step,
            r.error,
            r.started_at_us / 1_000_000,
            None if r.finished_at_us is None else r.finished_at_us / 1_000_000,
            r.owner,
            r.lease_until_us,
            orjson.loads(r.detail) if r.detail else {},
        )

    def to_json(self) -> dict[str, Any]:
        ended = self.finished_at if self.finished_at is not None else time.time()
        lease = datetime.fromtimestamp(self.lease_until_us / 1_000_000, UTC) if self.state == "running" else None
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "applied": self.applied,
            "step": self.step,
            "error": self.error,
            "seconds": round(ended - self.started_at, 3),
            "owner": self.owner,
            "lease_until": lease.isoformat(timespec="milliseconds") if lease is not None else None,
        }


Work = Callable[[Job], Awaitable[None]]
# Ends a job of a process that died; returns what its error should say, or None for its kind's.
Ender = Callable[[JobRecord], Awaitable[str | None]]


class Jobs:
    """The jobs this process runs, and its keeper: renews their leases, and ends the jobs
    of other processes whose leases ran out. `enders`: by kind, what ending a job of a
    process that died takes (a kind without one needs nothing undone)."""

    def __init__(
        self,
        store: JobStore,
        *,
        lease_s: float = LEASE_S,
        enders: Mapping[str, Ender] | None = None,
        owner: str | None = None,
    ) -> None:
        self.store = store
        self.lease_s = lease_s
        self.owner = owner or process_owner()
        self._enders = dict(enders or {})
        self._jobs: dict[str, Job] = {}  # running here
        self._seen: dict[str, JobRecord] = {}  # each one's record as this process last wrote it
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._lost: dict[str, str] = {}  # why a job was stopped here, by id
        self._keeper: asyncio.Task[None] | None = None
        self._writing = asyncio.Lock()

    def open(self) -> None:
        """Start the keeper (renewals every third of the lease, then the sweep)."""
        if self._keeper is None:
            self._keeper = asyncio.create_task(self._keep(), name="jobs-keeper")

    # -- starting and following ---------------------------------------------------------

    async def start(self, kind: str, work: Work) -> Job:
        job = self._new(f"{kind}-{uuid.uuid4().hex[:12]}", kind)
        if not await self.store.add(job.record()):
            raise Conflict(f"a job {job.id!r} exists already")
        self._run_here(job, work)
        return job

    async def claim(self, job_id: str, kind: str, work: Work) -> Job | None:
        """Run the job `job_id` here unless it is done or another process holds it: the
        first of several processes claiming it wins; a job that failed, or whose process
        stopped renewing its lease, is taken over. None: not ours to run."""
        job = self._new(job_id, kind)
        if await self.store.add(job.record()):
            self._run_here(job, work)
            return job
        found = await self.store.find(job_id)
        if found is None or found.state == "done" or found.held(now_us()) or job_id in self._jobs:
            return None
        if not await self.store.save(job.record(), found):
            return None
        log.info("job taken over", extra={"job": job_id, "from": found.owner})
        self._run_here(job, work)
        return job

    async def get(self, job_id: str) -> Job:
        """The job as this process knows it (the freshest) if it runs here, else as recorded."""
        job = self._jobs.get(job_id)
        if job is not None:
            return job
        found = await self.store.find(job_id)
        if found is None:
            raise JobNotFound(f"no job {job_id!r}")
        return Job.of(found)

    async def wait(self, job: Job) -> Job:
        """Until the job, run here, ends."""
        task = self._tasks.get(job.id)
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)
        return job

    # -- running here -------------------------------------------------------------------

    def _new(self, job_id: str, kind: str) -> Job:
        job = Job(job_id, kind, owner=self.owner, lease_until_us=now_us() + int(self.lease_s * 1_000_000))
        job.keeper = self._note
        return job

    def _run_here(self, job: Job, work: Work) -> Job:
        self._jobs[job.id] = job
        self._seen[job.id] = job.record()
        self._tasks[job.id] = asyncio.create_task(self._run(job, work), name=job.id)
        return job

    async def _run(self, job: Job, work: Work) -> None:
        log.info("job started", extra={"job": job.id, "kind": job.kind})
        try:
            await work(job)
            job.state, job.step = "done", "done"
        except asyncio.CancelledError:
            job.state, job.error = "failed", self._lost.get(job.id, SHUTTING_DOWN)
            if job.id not in self._lost:
                raise
        except LeaseLost as exc:
            job.state, job.error = "failed", exc.message
        except Exception as exc:
            # The job's answer says what went wrong in Podium's words; the log has the driver's.
            job.state, job.error = "failed", public_message(exc)
            log.exception("job failed", extra={"job": job.id})
        finally:
            job.finished_at = time.time()
            if job.id not in self._lost:
                with contextlib.suppress(LeaseLost, BackendUnavailable):
                    await self._note(job)  # the end, for every process to see
            self._tasks.pop(job.id, None)
            self._jobs.pop(job.id, None)
            self._seen.pop(job.id, None)
            self._lost.pop(job.id, None)
            log.info("job ended", extra={"job": job.id, "state": job.state, "done": job.done})

    async def _note(self, job: Job) -> None:
        """Write the job's record, renewing its lease while it runs; LeaseLost if another
        process changed it first. One write at a time: the keeper's renewal and the job's
        own note would otherwise both write from the same last record, and the second be
        refused as if another process had taken the job."""
        async with self._writing:
            if job.state == "running":
                job.lease_until_us = now_us() + int(self.lease_s * 1_000_000)
            record = job.record()
            try:
                saved = await self.store.save(record, self._seen[job.id])
            except BackendUnavailable:
                # A conditional write that timed out may still have been applied: look.
                if await self.store.find(job.id) != record:
                    raise
                saved = True
            if not saved:
                raise LeaseLost(f"job {job.id!r} is no longer held by this process: another ended it or took it over")
            self._seen[job.id] = record

    def _stop_here(self, job: Job, why: str) -> None:
        self._lost[job.id] = why
        task = self._tasks.get(job.id)
        if task is not None:
            task.cancel()

    async def _renew(self) -> None:
        for job in list(self._jobs.values()):
            if job.state != "running" or job.id in self._lost:
                continue
            try:
                await self._note(job)
            except LeaseLost as exc:
                log.warning("job lease lost; stopping it here", extra={"job": job.id})
                self._stop_here(job, exc.message)
            except BackendUnavailable as exc:
                # Renewed again next time; but past its lease another process may end it:
                # stop here first rather than work on beside it.
                if now_us() >= self._seen[job.id].lease_until_us:
                    log.warning("job lease ran out unrenewed; stopping it here", extra={"job": job.id})
                    self._stop_here(job, "the job store could not be reached to renew the job's lease")
                else:
                    log.warning("job lease not renewed; trying again", extra={"job": job.id, "error": exc.message})

    # -- the jobs of processes that died ----------------------------------------------------

    async def sweep(self) -> list[str]:
        """End every job whose lease ran out while it ran; returns their ids."""
        ended = []
        for record in await self.store.running():
            if record.id in self._jobs or record.held(now_us()):
                continue
            if await self._end_abandoned(record):
                ended.append(record.id)
        return ended

    async def _end_abandoned(self, found: JobRecord) -> bool:
        lease_until_us = now_us() + int(self.lease_s * 1_000_000)
        taken = found.but(owner=self.owner, lease_until_us=lease_until_us, step="ending: its process stopped")
        if not await self.store.save(taken, found):
            return False  # another process is ending it, or its owner renewed after all
        log.warning("ending a job whose process stopped", extra={"job": found.id, "owner": found.owner})
        ender = self._enders.get(found.kind)
        error = ABANDONED.get(found.kind)
        try:
            if ender is not None:
                error = await ender(found) or error
        except Exception:
            # The lease taken here runs out too, and the next sweep (here or elsewhere) tries again.
            log.exception("ending a job failed; tried again after its lease", extra={"job": found.id})
            return False
        ended = taken.but(state="failed", step="ended", error=error, finished_at_us=now_us())
        return await self.store.save(ended, taken)

    async def _keep(self) -> None:
        while not stop_requested():  # close() awaits it after the cancel (plumbing.stopping)
            await asyncio.sleep(self.lease_s / 3)
            try:
                await self._renew()
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job keeper failed; trying again")

    async def close(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.gather(self._keeper, return_exceptions=True)
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
