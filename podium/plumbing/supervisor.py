"""Keep a worker loop running: restart it with backoff after an error; run a step periodically."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from podium.errors import PodiumError, public_message
from podium.plumbing import metrics

log = logging.getLogger("podium.plumbing.supervisor")


@dataclass(slots=True)
class WorkerState:
    name: str
    running: bool = False
    restarts: int = 0
    # What /healthz may show of the last failure: Podium's words and code, as an API error
    # answer says them. The engine's own words (hosts, queries, a URL's password) go to the log.
    last_error: str | None = None
    last_error_code: str | None = None

    def failed(self, exc: BaseException) -> None:
        self.running = False
        self.restarts += 1
        self.last_error = public_message(exc)
        self.last_error_code = exc.code if isinstance(exc, PodiumError) else "internal"


async def supervise(
    state: WorkerState,
    run: Callable[[asyncio.Event], Awaitable[None]],
    recover: Callable[[], Awaitable[None]],
    stop: asyncio.Event,
    *,
    max_backoff_s: float = 5.0,
    healthy_after_s: float = 30.0,
) -> None:
    """Run `run(stop)` until `stop` is set; on an error, `recover()` and start again.

    The wait before a restart doubles with each failure in a row, up to `max_backoff_s`;
    a run that lasted `healthy_after_s` before it failed starts the count again, so a
    worker that failed a few times an hour ago comes back at once after the next blip."""
    backoff_s = 0.05
    while not stop.is_set():
        state.running = True
        started = time.monotonic()
        try:
            await run(stop)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if time.monotonic() - started >= healthy_after_s:
                backoff_s = 0.05
            state.failed(exc)
            metrics.WORKER_ERRORS.labels(state.name).inc()
            log.exception("worker failed; restarting", extra={"worker": state.name, "backoff_s": backoff_s})
            await asyncio.sleep(backoff_s)
            backoff_s = min(backoff_s * 2, max_backoff_s)
            try:
                await recover()
            except Exception:
                log.exception("worker recovery failed", extra={"worker": state.name})
        else:
            backoff_s = 0.05
    state.running = False


async def periodic(stop: asyncio.Event, every_s: float, step: Callable[[], Awaitable[float | None]]) -> None:
    """Run `step()` every `every_s` seconds until `stop` is set, the first time one interval
    after the start. A step may return a different wait before the next run (a sooner retry);
    None keeps `every_s`. A step's error ends the loop: the supervisor restarts it."""
    wait_s = every_s
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait_s)
        if stop.is_set():
            return
        next_s = await step()
        wait_s = every_s if next_s is None else next_s
