"""Faults against the distributed profile (api, db-worker and rank-worker as separate
processes on the local stack: Kafka, Cassandra, Debezium, Redis shards under
Sentinel): while game servers stream submissions, break one thing; once the pipeline
is quiet, nothing acknowledged is lost, nothing is counted twice, the store and the
rank index agree, and every rank is exact. Each run is recorded in var/faults/ and
docs/reliability.md."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.distributed.stack import DIST_ENV, ROOT, stack_settings
from tests.e2e.server import PodiumProcess
from tests.faults.check import cassandra_store_reader
from tests.faults.cutter import TcpCutter
from tests.faults.harness import Checker, FaultProxy, FriendGraph, LoadGenerator, finish

pytestmark = pytest.mark.distributed

PROFILE = "distributed"
STACK = str(ROOT / "infra" / "stack.sh")
SETTLE_S = 180.0  # a restarted engine's backlog drains within this


def checker_for(api: PodiumProcess, board: str) -> Checker:
    assert httpx.put(f"{api.base_url}/v1/boards/{board}", json={}).status_code == 201
    return Checker(
        api.base_url,
        board,
        store_reader=cassandra_store_reader(["127.0.0.1"], "podium", stack_settings().cassandra_auth),
    )


@pytest.mark.parametrize("worker", ["db-worker", "rank-worker"])
def test_sigkill_of_a_worker_mid_batch(
    distributed_processes: dict[str, PodiumProcess], board_name: str, worker: str
) -> None:
    """The worker dies between reading a batch and committing its offsets; its restart
    reads the batch again, which versions and the store's log positions make harmless."""
    api = distributed_processes["api"]
    with checker_for(api, board_name) as checker, LoadGenerator(api.base_url, board_name) as load:
        load.wait_acked(400)
        load.mark_fault(f"sigkill {worker}")
        distributed_processes[worker].kill()
        load.wait_acked(load.acked_count + 150)  # the api goes on accepting meanwhile
        distributed_processes[worker].start(timeout_s=60)
        load.wait_acked(load.acked_count + 300, timeout_s=120)
        result = finish(f"SIGKILL of the {worker} mid-batch", PROFILE, load, checker, timeout_s=SETTLE_S)
    assert result.exact, result.summary()
    # A lock or lease the dead worker held on the board expires in seconds, not minutes.
    assert result.converge_s is not None and result.converge_s < 30, result.converge_s


@pytest.mark.parametrize("engine", ["kafka", "cassandra", "debezium", "redis"])
def test_engine_restart_mid_stream(
    distributed_processes: dict[str, PodiumProcess], board_name: str, engine: str
) -> None:
    """`stack.sh down` then `up` of one engine while submissions stream (Redis: every
    primary, replica and Sentinel, data kept on disk)."""
    api = distributed_processes["api"]
    with checker_for(api, board_name) as checker, LoadGenerator(api.base_url, board_name) as load:
        load.wait_acked(300)
        load.mark_fault(f"restart {engine}")
        started = time.monotonic()
        subprocess.run(["bash", STACK, "down", engine], check=True, timeout=180)
        time.sleep(1)
        subprocess.run(["bash", STACK, "up", engine], check=True, timeout=400)
        down_s = time.monotonic() - started
        load.wait_acked(load.acked_count + 300, timeout_s=300)
        result = finish(
            f"restart of {engine}",
            PROFILE,
            load,
            checker,
            notes=f"down and up again in {down_s:.0f} s",
            timeout_s=SETTLE_S,
        )
    assert result.exact, result.summary()


def shard_primary_port(shard: str) -> int | None:
    """The port of the shard's primary as Sentinel sees it; None while it has none."""
    from redis.sentinel import MasterNotFoundError, Sentinel

    try:
        auth = stack_settings().redis_auth
        _, port = Sentinel([("127.0.0.1", 26379)], sentinel_kwargs=auth).discover_master(shard)
    except MasterNotFoundError:
        return None
    return int(port)


def redis_pidfile(port: int) -> Path:
    """The pidfile of the stack's Redis instance on `port` (infra/stack.sh's names)."""
    if port >= 6391:  # a social shard's
        index, role = divmod(port - 6391, 2)
        name = f"redis-social{index}"
    else:
        index, role = divmod(port - 6379, 2)
        name = f"redis-s{index}"
    return ROOT / "var" / "run" / f"{name}-{'replica' if role else 'primary'}.pid"


@pytest.mark.parametrize("shard", ["shard1", "social0"])
def test_sigkill_of_a_redis_primary_fails_over(
    distributed_processes: dict[str, PodiumProcess], board_name: str, shard: str
) -> None:
    """Sentinel promotes the replica; the rank-worker's writes fail until it does and are
    retried; the dead primary comes back as a replica. A social shard's too: every friends
    board stays exact."""
    api = distributed_processes["api"]
    with checker_for(api, board_name) as checker, LoadGenerator(api.base_url, board_name) as load:
        graph = FriendGraph(api.base_url, load.users)
        graph.put()
        load.wait_acked(300)
        port = shard_primary_port(shard)
        assert port is not None
        load.mark_fault(f"sigkill {shard} primary")
        killed = time.monotonic()
        os.kill(int(redis_pidfile(port).read_text()), signal.SIGKILL)
        while shard_primary_port(shard) in (port, None):  # Sentinel notices in ~1 s, then fails over
            assert time.monotonic() < killed + 60, "no failover"
            time.sleep(0.2)
        failover_s = time.monotonic() - killed
        load.wait_acked(load.acked_count + 200, timeout_s=120)
        # The operator brings the dead instance back; Sentinel makes it the new primary's replica.
        subprocess.run(["bash", STACK, "up", "redis"], check=True, timeout=120)
        load.wait_acked(load.acked_count + 200, timeout_s=120)
        result = finish(
            "SIGKILL of a social shard's primary" if shard.startswith("social") else "SIGKILL of a Redis shard primary",
            PROFILE,
            load,
            checker,
            notes=f"Sentinel failed {shard} over in {failover_s:.1f} s",
            timeout_s=SETTLE_S,
            friends=graph,
        )
    assert result.exact, result.summary()


def test_loss_of_all_redis_data_then_rebuild(distributed_processes: dict[str, PodiumProcess], board_name: str) -> None:
    """Every Redis primary, the social shards' too, is flushed mid-stream (a lost data
    centre, a bad restore): the rank index and every friend list and friends board are
    gone, the store is whole. `podium rebuild` refills the board from the store under a new
    generation while the stream goes on, then swaps it in, and refills the social shards."""
    import redis

    api = distributed_processes["api"]
    with checker_for(api, board_name) as checker, LoadGenerator(api.base_url, board_name) as load:
        graph = FriendGraph(api.base_url, load.users)
        graph.put()
        load.wait_acked(400)
        load.mark_fault("flushall")
        for shard in [*(f"shard{i}" for i in range(3)), *(f"social{i}" for i in range(2))]:
            port = shard_primary_port(shard)
            assert port is not None
            redis.Redis(port=port, **stack_settings().redis_auth).flushall()
        started = time.monotonic()
        rebuilt = subprocess.run(
            [sys.executable, "-m", "podium", "rebuild", "--board", board_name, "--url", api.base_url],
            capture_output=True,
            text=True,
            timeout=300,
        )
        rebuild_s = time.monotonic() - started
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        load.wait_acked(load.acked_count + 300, timeout_s=120)
        result = finish(
            "loss of all Redis data, then podium rebuild",
            PROFILE,
            load,
            checker,
            notes=f"FLUSHALL on every primary, social shards too; rebuild of the board took {rebuild_s:.1f} s "
            "while the stream went on",
            timeout_s=SETTLE_S,
            friends=graph,
        )
    assert result.exact, result.summary()


def test_connection_cut_after_the_request_and_before_the_answer(
    distributed_processes: dict[str, PodiumProcess], board_name: str
) -> None:
    """The api has written the submission to Kafka; the client never hears so and
    retries the same key, which the db-worker recognises."""
    api = distributed_processes["api"]
    with checker_for(api, board_name) as checker, FaultProxy(api.port, cut_every=7) as proxy:
        load = LoadGenerator(proxy.base_url, board_name)
        proxy.on_cut = lambda: load.mark_fault("cut")
        with load:
            load.wait_acked(700, timeout_s=120)
            proxy.cut_every = 0
            result = finish(
                "connection cut before the answer",
                PROFILE,
                load,
                checker,
                notes=f"every 7th POST's answer dropped: {proxy.cuts} cuts of {proxy.requests} requests",
                timeout_s=SETTLE_S,
            )
    assert proxy.cuts >= 50 and load.retries >= proxy.cuts
    assert result.exact, result.summary()


def test_connection_cut_between_the_rank_worker_and_redis(
    distributed_processes: dict[str, PodiumProcess], board_name: str, tmp_path: Path
) -> None:
    """The rank-worker reaches each shard's primary through a proxy that cuts every
    connection at once, again and again: scripts and pipelines die half sent or half
    answered, the worker rewinds to its last commit and applies again."""
    primaries = [shard_primary_port(f"shard{i}") for i in range(3)]
    assert all(p is not None for p in primaries)
    cutters = [TcpCutter(p).start() for p in primaries if p is not None]
    distributed_processes["rank-worker"].stop()
    urls = ",".join(f"redis://127.0.0.1:{c.port}/0" for c in cutters)
    # The social shards as they are (by URL now that no Sentinel is asked): only the rank shards are cut.
    social = ",".join(f"redis://127.0.0.1:{shard_primary_port(f'social{i}')}/0" for i in range(2))
    env = {**DIST_ENV, "PODIUM_REDIS_SENTINELS": "", "PODIUM_REDIS_SHARDS": urls, "PODIUM_SOCIAL_SHARDS": social}
    worker = PodiumProcess(tmp_path / "cut-rank-worker", command="rank-worker", env=env).start(timeout_s=60)
    api = distributed_processes["api"]
    try:
        with checker_for(api, board_name) as checker, LoadGenerator(api.base_url, board_name) as load:
            load.wait_acked(200)
            for round_no in range(8):
                load.wait_acked(load.acked_count + 60)
                # Each round cuts what the worker opened since the last: it must have come
                # back to Redis by then (a worker that hangs after a cut fails here).
                deadline = time.monotonic() + 60
                while not any(c.made_since_cut for c in cutters):
                    assert time.monotonic() < deadline, f"no connection to Redis within 60 s of cut {round_no}"
                    time.sleep(0.05)
                load.mark_fault("cut rank-worker ↔ redis")
                for c in cutters:
                    c.cut_all()
            load.wait_acked(load.acked_count + 200, timeout_s=120)
            cuts = sum(c.cuts for c in cutters)
            result = finish(
                "connection cut between the rank-worker and Redis",
                PROFILE,
                load,
                checker,
                notes=f"8 times every connection to the 3 primaries cut: {cuts} connections",
                timeout_s=SETTLE_S,
            )
        assert cuts >= 8
        assert result.exact, result.summary()
    finally:
        worker.stop()
        for c in cutters:
            c.stop()
        distributed_processes["rank-worker"].start(timeout_s=60)


def test_adding_a_social_shard_while_scores_flow(
    distributed_processes: dict[str, PodiumProcess], board_name: str
) -> None:
    """The documented way to add a social shard (docs/operations.md), under load: start
    social2, list it as joining in the api and the rank-worker (restarted one after the
    other), `podium social fill`, make it serve (restarted again), `podium social prune`.
    Nothing acknowledged is lost and every friends board is exact at the end."""
    api, worker = distributed_processes["api"], distributed_processes["rank-worker"]

    def restart_with(shards: str) -> None:
        for proc in (worker, api):  # the api's clients retry through its restart
            proc.env = {**proc.env, "PODIUM_SOCIAL_SHARDS": shards}
            proc.stop()
            proc.start(timeout_s=60)

    def social(action: str, shards: str) -> str:
        env = {**os.environ, **DIST_ENV, "PODIUM_SOCIAL_SHARDS": shards}
        done = subprocess.run(
            [sys.executable, "-m", "podium", "social", action], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout.strip()

    with checker_for(api, board_name) as checker, LoadGenerator(api.base_url, board_name) as load:
        graph = FriendGraph(api.base_url, load.users)
        graph.put()
        load.wait_acked(300)
        load.mark_fault("add social2")
        started = time.monotonic()
        subprocess.run(
            ["bash", STACK, "up", "redis"], env={**os.environ, "SOCIAL_SHARDS": "3"}, check=True, timeout=180
        )
        restart_with("social0,social1,+social2")
        load.wait_acked(load.acked_count + 100, timeout_s=120)
        filled = social("fill", "social0,social1,+social2")
        restart_with("social0,social1,social2")
        load.wait_acked(load.acked_count + 100, timeout_s=120)
        pruned = social("prune", "social0,social1,social2")
        moved_s = time.monotonic() - started
        load.wait_acked(load.acked_count + 200, timeout_s=120)
        result = finish(
            "adding a social shard while scores flow",
            PROFILE,
            load,
            checker,
            notes=f"social2 started, joined, filled, serving and the old homes pruned in {moved_s:.0f} s "
            f"({filled.removeprefix('podium: ').split(';')[0]}; {pruned.removeprefix('podium: ')})",
            timeout_s=SETTLE_S,
            friends=graph,
        )
    assert result.exact, result.summary()
