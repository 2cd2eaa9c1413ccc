"""Faults against the embedded profile (`podium serve`: one process, SQLite): while
game servers stream submissions, break something; once the pipeline is quiet,
nothing acknowledged is lost, nothing is counted twice, and every rank is exact.
Each run is recorded in var/faults/ and docs/reliability.md."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import BoardNames
from tests.e2e.server import PodiumProcess
from tests.faults.check import miscounts
from tests.faults.harness import Checker, FaultProxy, LoadGenerator, expected_totals, finish, sqlite_store_reader

pytestmark = pytest.mark.e2e

PROFILE = "embedded"
KILLS = 3
DOWN_S = 1.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[PodiumProcess]:
    process = PodiumProcess(tmp_path / "data").start()
    try:
        yield process
    finally:
        process.stop()


def checker_for(server: PodiumProcess, board: str) -> Checker:
    assert httpx.put(f"{server.base_url}/v1/boards/{board}", json={}).status_code == 201
    return Checker(server.base_url, board, store_reader=sqlite_store_reader(server.data / "store.db"))


def caught_up(checker: Checker, expected: dict[str, int], timeout_s: float = 30.0) -> float:
    """When every total reached at least the expected one (`incr`, positive scores: totals only grow)."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = {e.user_id: e.score for e in checker.page()}
        if all(got.get(user, 0) >= total for user, total in expected.items()):
            return time.monotonic()
        assert time.monotonic() < deadline, "what was acknowledged before the kill is still not ranked"
        time.sleep(0.02)


def test_connection_cut_after_the_request_and_before_the_answer(server: PodiumProcess, b: BoardNames) -> None:
    """The server applies the submission, the client never hears so and retries the same key."""
    with checker_for(server, b.arena) as checker, FaultProxy(server.port, cut_every=7) as proxy:
        load = LoadGenerator(proxy.base_url, b.arena)
        proxy.on_cut = lambda: load.mark_fault("cut")
        with load:
            load.wait_acked(1500)
            proxy.cut_every = 0  # the cut submissions' retries go through
            result = finish(
                "connection cut before the answer",
                PROFILE,
                load,
                checker,
                notes=f"every 7th POST's answer dropped: {proxy.cuts} cuts of {proxy.requests} requests",
            )
    print(f"cuts {proxy.cuts}, retries {load.retries}, errors {dict(load.errors)}")
    assert proxy.cuts >= 100
    assert load.retries >= proxy.cuts  # every cut answer was retried
    assert len(load.faults) == proxy.cuts and min(n for _, n in load.faults) >= 1
    assert result.exact, result.summary()
    assert result.acked >= 1500 and result.expected_users == len(load.users)


def test_sigkill_of_the_server_mid_stream_and_restart(server: PodiumProcess, b: BoardNames) -> None:
    """`podium serve` dies with its db-worker and rank-worker mid-batch, three times;
    while it is down the game servers retry against a closed port. Restarted on the
    same data directory, it applies what it acknowledged, and the retries once."""
    kills: list[tuple[int, int, float]] = []
    with checker_for(server, b.arena) as checker, LoadGenerator(server.base_url, b.arena, game_servers=8) as load:
        for _ in range(KILLS):
            load.wait_acked(load.acked_count + 700)
            acks, page = load.acked, checker.page()  # acknowledged, and what of it was visible just before
            in_flight = load.mark_fault("sigkill")
            server.kill()
            expected = expected_totals(acks, "incr", "desc")
            backlog, _ = miscounts(acks, "incr", expected, {e.user_id: e.score for e in page})
            time.sleep(DOWN_S)
            restarted_at = time.monotonic()
            server.start()
            kills.append((in_flight, backlog, round(caught_up(checker, expected) - restarted_at, 2)))
        load.wait_acked(load.acked_count + 700)
        result = finish(
            "SIGKILL of podium serve mid-stream",
            PROFILE,
            load,
            checker,
            notes=(
                f"{KILLS} kills, each down {DOWN_S} s; at each, in flight, acknowledged but not yet ranked, "
                f"and seconds from restart until all acknowledged before the kill was ranked: {kills}"
            ),
        )
    print(f"kills (in flight, backlog, caught up after s): {kills}, retries {load.retries}, errors {dict(load.errors)}")
    assert load.retries >= KILLS  # the game servers did meet the dead server
    assert result.exact, result.summary()
