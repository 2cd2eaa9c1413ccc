"""SIGKILL of the api process that runs a rebuild (distributed profile, real processes).

Game servers stream to the api that is then asked to rebuild their board; the moment its
rebuild has marked the new generation (so every write goes to both), it is SIGKILLed. The
job's record outlives it in Cassandra: within the job's lease another process ends the
job cleanly, as `--force` would (double writes stopped, the new generation dropped, the
old one serving throughout), and every api answers for the job. The killed api is then
started again and the game servers, which retried meanwhile, go on: nothing acknowledged
is lost or counted twice and every rank is exact."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from podium.plumbing import names
from tests.distributed.stack import DIST_ENV, stack_settings
from tests.e2e.server import PodiumProcess
from tests.faults.harness import LoadGenerator, finish
from tests.faults.test_distributed_faults import PROFILE, SETTLE_S, checker_for, shard_primary_port

pytestmark = pytest.mark.distributed

LEASE_S = 6.0  # the rebuild's api's: its job's lease
SWEEP_S = 12.0 / 3  # how often the other processes (default lease) look for jobs whose lease ran out


def generations(board: str) -> tuple[int, int | None]:
    """The generation of `board` serving and the one being rebuilt (None: none), as the
    index's record says."""
    import redis

    port = shard_primary_port("shard0")
    assert port is not None
    raw = redis.Redis(port=port, **stack_settings().redis_auth).hget(names.generations_key(), board)
    if raw is None:
        return 0, None
    cur, reb, _ = (int(x) for x in raw.decode().split("|"))
    return cur, None if reb < 0 else reb


def test_sigkill_of_the_api_running_a_rebuild(
    distributed_processes: dict[str, PodiumProcess], board_name: str, tmp_path: Path
) -> None:
    other = distributed_processes["api"]  # follows the job, and is where the checker reads
    runner = PodiumProcess(
        tmp_path / "api-rebuild", command="api", env={**DIST_ENV, "PODIUM_JOB_LEASE_S": str(LEASE_S)}
    ).start(timeout_s=60)
    try:
        with checker_for(other, board_name) as checker, LoadGenerator(runner.base_url, board_name, users=200) as load:
            load.wait_acked(600)
            answer = httpx.post(f"{runner.base_url}/v1/admin/rebuild", json={"board": board_name}, timeout=10)
            assert answer.status_code == 202, answer.text
            job = answer.json()
            deadline = time.monotonic() + 30
            while (generation := generations(board_name)[1]) is None:
                assert time.monotonic() < deadline, "the rebuild never marked a generation"
                time.sleep(0.005)
            load.mark_fault("sigkill api running a rebuild")
            runner.kill()
            killed = time.monotonic()
            # Every api answers for the job; within its lease (and one sweep) it is ended.
            while (seen := httpx.get(f"{other.base_url}/v1/admin/jobs/{job['id']}", timeout=5).json())[
                "state"
            ] == "running":
                assert time.monotonic() < killed + LEASE_S + SWEEP_S + 10, seen
                time.sleep(0.1)
            ended_s = time.monotonic() - killed
            assert seen["state"] == "failed" and "the old generation still serves" in seen["error"], seen
            assert seen["owner"] != job["owner"]
            # The double writes stopped; the generation serving before the rebuild still serves.
            assert generations(board_name) == (0, None)
            runner.start(timeout_s=60)  # its game servers retried meanwhile
            load.wait_acked(load.acked_count + 400, timeout_s=120)
            result = finish(
                "SIGKILL of the api running a rebuild",
                PROFILE,
                load,
                checker,
                notes=f"killed once generation {generation} was marked; the job ended by another process "
                f"{ended_s:.1f} s after the kill (lease {LEASE_S:.0f} s), the old generation serving throughout",
                timeout_s=SETTLE_S,
            )
        assert ended_s < LEASE_S + SWEEP_S + 2, ended_s
        assert result.exact, result.summary()
    finally:
        runner.stop()
