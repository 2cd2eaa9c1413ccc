"""The job store port. A job's record says who runs it (`owner`) and until when they
hold it (`lease_until_us`); the owner renews the lease while it works. Every write is
conditional on the record being as the writer last saw it (state, owner and lease),
so of two processes changing one job, one wins and the other is told."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Protocol

KINDS = ("rebuild", "replay", "reconcile")
STATES = ("running", "done", "failed")


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: str
    kind: str  # one of KINDS
    state: str  # running → done | failed
    owner: str  # the process that runs it (podium/usecases/jobs.py: host, pid and a random part)
    lease_until_us: int  # past this, with the job still running, its process is taken for dead
    started_at_us: int
    finished_at_us: int | None = None
    done: int = 0
    total: int = 0
    applied: int = 0
    step: str = "starting"
    error: str | None = None
    # What another process needs to end the job cleanly, as JSON (a rebuild: the board and
    # generation it is filling); "" if nothing.
    detail: str = ""

    def held(self, now_us: int) -> bool:
        """Whether the owner still holds the job: it runs, and its lease has not run out."""
        return self.state == "running" and self.lease_until_us > now_us

    def but(self, **changes: object) -> JobRecord:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


class JobStore(Protocol):
    async def add(self, record: JobRecord) -> bool:
        """Record a new job; False (and nothing written) if a job with its id exists."""
        ...

    async def find(self, job_id: str) -> JobRecord | None: ...

    async def running(self) -> list[JobRecord]:
        """Every job still marked running (its lease may have run out)."""
        ...

    async def save(self, record: JobRecord, seen: JobRecord) -> bool:
        """Write `record` (same id) if the stored one still has `seen`'s state, owner and
        lease: a renewal, a progress note, an end, or a take-over (of a running job whose
        lease ran out, or of a failed one run again). False: someone else changed it first
        (the lease was taken over, the job ended), and nothing was written."""
        ...

    async def close(self) -> None: ...
