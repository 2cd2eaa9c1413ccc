"""Admin jobs (rebuild, replay) run in the API process, in the background; the HTTP
API starts them and reports their progress, so the CLI can show a progress bar."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from podium.errors import NotFound, public_message

log = logging.getLogger("podium.jobs")


class JobNotFound(NotFound):
    code = "job_not_found"


@dataclass(slots=True)
class Job:
    id: str
    kind: str  # "rebuild" | "replay"
    state: str = "running"  # running → done | failed
    done: int = 0  # totals or changes read so far
    total: int = 0  # how many there are to read (known once the job has counted them)
    applied: int = 0  # how many of them changed the rank index
    step: str = "starting"
    error: str | None = None
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        ended = self.finished_at if self.finished_at is not None else time.time()
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
        }


class Jobs:
    """The jobs of this process; the last `keep` finished ones are remembered."""

    def __init__(self, keep: int = 100) -> None:
        self._jobs: dict[str, Job] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._keep = keep
        self._serial = itertools.count(1)

    def start(self, kind: str, work: Callable[[Job], Awaitable[None]]) -> Job:
        job = Job(f"{kind}-{next(self._serial)}-{uuid.uuid4().hex[:8]}", kind)
        self._jobs[job.id] = job
        self._tasks[job.id] = asyncio.create_task(self._run(job, work), name=job.id)
        self._forget_old()
        return job

    async def _run(self, job: Job, work: Callable[[Job], Awaitable[None]]) -> None:
        log.info("job started", extra={"job": job.id})
        try:
            await work(job)
            job.state, job.step = "done", "done"
        except asyncio.CancelledError:
            job.state, job.error = "failed", "stopped: the process is shutting down"
            raise
        except Exception as exc:
            # The job's answer says what went wrong in Podium's words; the log has the driver's.
            job.state, job.error = "failed", public_message(exc)
            log.exception("job failed", extra={"job": job.id})
        finally:
            job.finished_at = time.time()
            self._tasks.pop(job.id, None)
            log.info("job ended", extra={"job": job.id, "state": job.state, "done": job.done})

    def get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise JobNotFound(f"no job {job_id!r}")
        return job

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.finished_at is not None]
        for job in finished[: max(0, len(finished) - self._keep)]:
            del self._jobs[job.id]

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
