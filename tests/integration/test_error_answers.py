"""Answers to failures say what happened in Podium's words: no driver error (hosts,
addresses, passwords), no traceback; the log keeps the detail, passwords masked."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from podium.api.app import create_app
from podium.errors import BackendUnavailable
from podium.plumbing.logs import JsonFormatter
from podium.services import ApiServices
from podium.settings import Settings

DRIVER_WORDS = "redis: Error 111 connecting to 10.0.0.7:6379 (redis://:hunter2@10.0.0.7:6379/0)"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    # As a real server answers: an exception becomes a 500, not a test failure.
    with TestClient(
        create_app(Settings(data=tmp_path / "data", auth="off")), raise_server_exceptions=False
    ) as test_client:
        assert test_client.put("/v1/boards/arena", json={}).status_code == 201
        yield test_client


def services(client: TestClient) -> ApiServices:
    svc: ApiServices = client.app.state.services  # type: ignore[attr-defined]
    return svc


def fail_with(error: Exception) -> Any:
    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise error

    return failing


def test_a_backend_failure_answers_503_without_the_drivers_words(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(services(client).index, "count", fail_with(BackendUnavailable(DRIVER_WORDS)))
    with caplog.at_level(logging.WARNING, logger="podium.api"):
        answer = client.get("/v1/boards/arena")
    assert answer.status_code == 503
    assert answer.json() == {
        "error": {"code": "backend_unavailable", "message": "a backend is unavailable; try again shortly"}
    }
    # The log has what the operator needs, but not the password.
    (record,) = [r for r in caplog.records if r.getMessage() == "backend error"]
    line = JsonFormatter().format(record)
    assert "10.0.0.7:6379" in line and "hunter2" not in line and "redis://:***@10.0.0.7" in line


def test_an_unexpected_error_answers_500_without_a_traceback(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(services(client).boards, "names", fail_with(KeyError("the board table's secret column")))
    with caplog.at_level(logging.ERROR, logger="podium.api"):
        answer = client.get("/v1/boards")
    assert (answer.status_code, answer.json()) == (500, {"error": {"code": "internal", "message": "internal error"}})
    assert "Traceback" not in answer.text and "secret" not in answer.text
    assert any(r.exc_info and "secret column" in str(r.exc_info[1]) for r in caplog.records)


def test_a_failed_job_reports_without_the_drivers_words(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services(client).index, "begin_rebuild", fail_with(BackendUnavailable(DRIVER_WORDS)))
    job = client.post("/v1/admin/rebuild", json={"board": "arena"}).json()
    deadline = time.monotonic() + 10
    while job["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.02)
        job = client.get(f"/v1/admin/jobs/{job['id']}").json()
    assert (job["state"], job["error"]) == ("failed", "a backend is unavailable; try again shortly")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param({"x" * 100_000: 1}, "unknown_field", id="long field name"),
        pytest.param({"timezone": "x" * 100_000}, "invalid_timezone", id="long time zone"),
        pytest.param(b"[" + b"1," * 400_000, "invalid_json", id="long broken JSON"),
    ],
)
def test_a_refusal_quotes_a_long_value_cut_short(client: TestClient, body: Any, code: str) -> None:
    answer = client.put("/v1/boards/other", **({"content": body} if isinstance(body, bytes) else {"json": body}))
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, code)
    assert len(answer.json()["error"]["message"]) < 200
