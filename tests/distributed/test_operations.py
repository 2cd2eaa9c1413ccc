"""Every process of the distributed profile is operable: health checks that exit
0 or 1, and Prometheus metrics that show the pipeline at work."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from tests.e2e.server import PodiumProcess

pytestmark = pytest.mark.distributed


@pytest.fixture
def processes(distributed_processes: dict[str, PodiumProcess]) -> dict[str, PodiumProcess]:
    return distributed_processes


def check(process: str, url: str) -> int:
    return subprocess.run(
        [sys.executable, "-m", "podium", "check", process, "--url", url], capture_output=True, timeout=30
    ).returncode


def metric(url: str, name: str) -> float:
    """Sum of a metric's samples in the process's /metrics."""
    total = 0.0
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_health_checks_exit_0_or_1(processes: dict[str, PodiumProcess]) -> None:
    for name, proc in processes.items():
        assert check(name, proc.base_url) == 0, name
    processes["db-worker"].kill()
    assert check("db-worker", processes["db-worker"].base_url) == 1


def test_metrics_show_submissions_applies_lag_and_latency(processes: dict[str, PodiumProcess], board_name: str) -> None:
    api, db, rank = (processes[n].base_url for n in ("api", "db-worker", "rank-worker"))
    before = metric(db, "podium_db_worker_records_total")
    httpx.put(f"{api}/v1/boards/{board_name}", json={})
    body = {"scores": [{"user_id": f"u{i}", "score": i} for i in range(20)]}
    assert httpx.post(f"{api}/v1/boards/{board_name}/scores/batch?wait=true", json=body, timeout=60).status_code == 200
    assert metric(api, "podium_submissions_total") >= 20
    assert metric(db, 'podium_db_worker_records_total{outcome="applied"}') - before >= 20
    deadline = time.monotonic() + 10
    while metric(rank, "podium_apply_latency_seconds_count") < 20:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert metric(rank, "podium_rank_worker_changes_total") >= 20
    assert "podium_consumer_lag{" in httpx.get(f"{db}/metrics").text
    assert "podium_consumer_lag{" in httpx.get(f"{rank}/metrics").text


def test_podium_buckets_prints_the_board_s_buckets(processes: dict[str, PodiumProcess], board_name: str) -> None:
    api = processes["api"].base_url
    httpx.put(f"{api}/v1/boards/{board_name}", json={})
    body = {"scores": [{"user_id": f"u{i}", "score": i} for i in range(20)]}
    assert httpx.post(f"{api}/v1/boards/{board_name}/scores/batch?wait=true", json=body, timeout=60).status_code == 200
    out = subprocess.run(
        [sys.executable, "-m", "podium", "buckets", board_name, "--url", api],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("members")
    assert "20 members" in out.stdout and "the top" in out.stdout
