"""A worker's /healthz tells its last error in Podium's words; the engine's words, with
any URL password masked, are only in the log."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from podium.api.worker_app import healthz
from podium.errors import BackendUnavailable
from podium.plumbing.logs import JsonFormatter
from podium.plumbing.supervisor import WorkerState, supervise

ENGINE_WORDS = "Error 111 connecting to redis://:hunter2@10.1.2.3:6379. Connection refused."


async def fail_once(exc: Exception, caplog: pytest.LogCaptureFixture) -> WorkerState:
    """A supervised worker whose first run raises `exc` and whose second run stops."""
    state, stop, runs = WorkerState("rank-worker"), asyncio.Event(), []

    async def run(stop_event: asyncio.Event) -> None:
        runs.append(1)
        if len(runs) == 1:
            raise exc
        stop_event.set()

    async def recover() -> None:
        return None

    with caplog.at_level(logging.ERROR, logger="podium.plumbing.supervisor"):
        await asyncio.wait_for(supervise(state, run, recover, stop), timeout=5)
    return state


def health(state: WorkerState, running: bool) -> tuple[int, dict[str, object]]:
    state.running = running
    app = Starlette(routes=[Route("/healthz", healthz)])
    app.state.services = SimpleNamespace(workers=(state,))
    answer = TestClient(app).get("/healthz")
    return answer.status_code, answer.json()


@pytest.mark.parametrize(
    ("exc", "words", "code"),
    [
        (BackendUnavailable(ENGINE_WORDS), "a backend is unavailable; try again shortly", "backend_unavailable"),
        (ConnectionError(ENGINE_WORDS), "internal error", "internal"),  # an engine error no adapter translated
    ],
)
def test_health_speaks_podiums_words(exc: Exception, words: str, code: str, caplog: pytest.LogCaptureFixture) -> None:
    state = asyncio.run(fail_once(exc, caplog))
    status, body = health(state, running=False)
    assert status == 503
    assert body["workers"] == {
        "rank-worker": {"running": False, "restarts": 1, "last_error": words, "last_error_code": code}
    }
    assert "hunter2" not in str(body) and "10.1.2.3" not in str(body)
    status, body = health(state, running=True)  # running again: healthy, the last error still told
    assert status == 200 and body["status"] == "ok" and body["workers"]["rank-worker"]["last_error"] == words

    # The details are in the log line of the failure, password masked.
    [record] = [r for r in caplog.records if r.getMessage() == "worker failed; restarting"]
    line = JsonFormatter().format(record)
    assert "10.1.2.3:6379" in line and "hunter2" not in line


async def test_the_restart_wait_grows_with_failures_in_a_row_and_starts_again_after_a_healthy_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    state, stop, runs = WorkerState("rank-worker"), asyncio.Event(), []

    async def run(stop_event: asyncio.Event) -> None:
        runs.append(1)
        if len(runs) == 4:
            await asyncio.sleep(0.06)  # a healthy while, then a failure
        if len(runs) == 6:
            stop_event.set()
            return
        raise BackendUnavailable("cut")

    async def recover() -> None:
        return None

    with caplog.at_level(logging.ERROR, logger="podium.plumbing.supervisor"):
        await asyncio.wait_for(supervise(state, run, recover, stop, healthy_after_s=0.05), timeout=5)
    waits = [r.backoff_s for r in caplog.records if r.getMessage() == "worker failed; restarting"]  # type: ignore[attr-defined]
    assert waits == [0.05, 0.1, 0.2, 0.05, 0.1]
