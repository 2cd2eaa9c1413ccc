"""Kill workers and restart engines while scores stream in: once the stream is over,
every total is exact — nothing lost, nothing counted twice."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import httpx
import pytest

from tests.distributed.load import Streamer
from tests.distributed.stack import ROOT
from tests.e2e.server import PodiumProcess

pytestmark = pytest.mark.distributed


@pytest.fixture
def processes(distributed_processes: dict[str, PodiumProcess]) -> dict[str, PodiumProcess]:
    return distributed_processes


def check_exact(streamer: Streamer) -> None:
    streamer.stop()
    got = streamer.settle_and_read()
    assert got == streamer.expected()
    ranks = sorted(got.items(), key=lambda kv: -kv[1])
    assert [kv[1] for kv in ranks] == sorted(got.values(), reverse=True)


def test_sigkill_of_each_worker_mid_stream(processes: dict[str, PodiumProcess], board_name: str) -> None:
    api = processes["api"]
    assert httpx.put(f"{api.base_url}/v1/boards/{board_name}", json={}).status_code == 201
    streamer = Streamer(api.base_url, board_name).start()
    for worker in ("db-worker", "rank-worker"):
        streamer.wait_acked(streamer.acked + 300)
        processes[worker].kill()  # SIGKILL, mid-batch
        streamer.wait_acked(streamer.acked + 100)  # the api goes on accepting meanwhile
        processes[worker].start(timeout_s=60)
    streamer.wait_acked(streamer.acked + 200)
    check_exact(streamer)


def restart(component: str) -> None:
    script = str(ROOT / "infra" / "stack.sh")
    subprocess.run(["bash", script, "down", component], check=True, timeout=180)
    time.sleep(1)
    subprocess.run(["bash", script, "up", component], check=True, timeout=400)


@pytest.mark.parametrize("component", ["kafka", "cassandra", "debezium", "redis"])
def test_engine_restart_mid_stream(processes: dict[str, PodiumProcess], board_name: str, component: str) -> None:
    api = processes["api"]
    assert httpx.put(f"{api.base_url}/v1/boards/{board_name}", json={}).status_code == 201
    streamer = Streamer(api.base_url, board_name).start()
    streamer.wait_acked(300)
    restart(component)
    streamer.wait_acked(streamer.acked + 200, timeout_s=300)
    check_exact(streamer)


def shard_primary_port(shard: str) -> int | None:
    """The port of the shard's primary as Sentinel sees it; None while it has none."""
    from redis.sentinel import MasterNotFoundError, Sentinel

    try:
        _, port = Sentinel([("127.0.0.1", 26379)]).discover_master(shard)
    except MasterNotFoundError:
        return None
    return int(port)


def test_sigkill_of_a_shard_primary_fails_over(processes: dict[str, PodiumProcess], board_name: str) -> None:
    """Sentinel promotes the replica; the rank-worker retries; nothing is lost or doubled."""
    api = processes["api"]
    assert httpx.put(f"{api.base_url}/v1/boards/{board_name}", json={}).status_code == 201
    streamer = Streamer(api.base_url, board_name).start()
    streamer.wait_acked(300)
    port = shard_primary_port("shard1")
    assert port is not None
    index, role = divmod(port - 6379, 2)
    pidfile = ROOT / "var" / "run" / f"redis-s{index}-{'replica' if role else 'primary'}.pid"
    os.kill(int(pidfile.read_text()), signal.SIGKILL)
    deadline = time.monotonic() + 60
    while shard_primary_port("shard1") in (port, None):  # Sentinel notices in ~1 s, then fails over
        assert time.monotonic() < deadline, "no failover"
        time.sleep(0.2)
    streamer.wait_acked(streamer.acked + 200)
    # The operator brings the dead instance back; Sentinel makes it the new primary's replica.
    subprocess.run(["bash", str(ROOT / "infra" / "stack.sh"), "up", "redis"], check=True, timeout=120)
    streamer.wait_acked(streamer.acked + 200)
    check_exact(streamer)
