"""The scheduled reconcile: once a period (`reconcile_every_s`, a day, counted from 00:00
UTC) one process of the deployment reconciles every board.

Every process with the rank-worker role checks, every `check_s`, whether this period's
reconcile job (`reconcile-<period start>`) has run, and claims it if not: the job store
lets one process win (podium/usecases/jobs.py). The winner holds it through its lease; if it dies
the job is ended within the lease, and one that ended failed (a backend down, a process
lost) is claimed again at the next check.

Only a process that was running when the period began claims it: a deployment that starts
(or restarts, or a test or a bench that starts one) at 14:00 reconciles at the next 00:00,
not at once, as a process alone did when it counted a day from its start."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

from podium.plumbing.supervisor import periodic
from podium.usecases.jobs import Job, Jobs
from podium.usecases.reconcile import Reconciler, report_path, write_report

log = logging.getLogger("podium.usecases.reconcile")

CHECK_S = 60.0


def period_job_id(every_s: float, at_s: float) -> str:
    """The reconcile job of the period that `at_s` (a Unix time) falls in."""
    start = datetime.fromtimestamp((at_s // every_s) * every_s, UTC)
    return f"reconcile-{start.strftime('%Y%m%dT%H%M%SZ')}"


async def run_every(
    reconciler: Reconciler,
    jobs: Jobs,
    every_s: float,
    data: Path,
    stop: asyncio.Event,
    *,
    check_s: float = CHECK_S,
) -> None:
    """Reconcile every board once a period of `every_s`, in whichever process claims the
    period's job first; log the summary and keep the report under `data`."""

    async def reconcile(job: Job) -> None:
        job.step = "reconciling every board"
        report = (await reconciler.run()).to_json()
        path = write_report(report, report_path(data))
        totals = report["totals"]
        job.done = job.total = totals["boards"]
        job.applied = totals["repaired"]
        job.step = f"report in {path}"
        log.info("reconciled", extra={"report": str(path), **totals})

    started_s = time.time()

    async def step() -> None:
        now_s = time.time()
        if (now_s // every_s) * every_s < started_s:
            return  # a period that began before this process: not its own to run
        job = await jobs.claim(period_job_id(every_s, now_s), "reconcile", reconcile)
        if job is None:
            return  # done this period, or another process holds it
        await jobs.wait(job)
        if job.state == "failed":
            log.warning("reconcile failed; claimed again at the next check", extra={"error": job.error})

    await periodic(stop, min(every_s, check_s), step)
