"""Tournaments behind a load balancer: two `podium api` processes on the real stack take a
tournament's last places and count a player's attempts together (Cassandra lightweight
transactions), first come first served, never one too many."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.distributed.stack import DIST_ENV
from tests.e2e.server import PodiumProcess

pytestmark = pytest.mark.distributed

SIZE, JOINERS = 7, 60


def test_two_api_processes_fill_a_tournament_exactly_and_count_attempts_once(
    running_stack: None, board_name: str, tmp_path: Path
) -> None:
    apis = [PodiumProcess(tmp_path / f"api-{n}", command="api", env=DIST_ENV) for n in (1, 2)]
    try:
        for api in apis:
            api.start(timeout_s=60)
        start = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        tournament = {"start": start, "duration_s": 3600, "max_players": SIZE, "join_required": True, "max_attempts": 2}
        made = httpx.put(f"{apis[0].base_url}/v1/boards/{board_name}", json={"tournament": tournament}, timeout=30)
        assert made.status_code == 201, made.text

        def join(i: int) -> int:
            api = apis[i % 2]  # every other joiner through the other process
            return httpx.post(f"{api.base_url}/v1/boards/{board_name}/players/u{i}", timeout=30).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            codes = list(pool.map(join, range(JOINERS)))
        assert codes.count(201) == SIZE and codes.count(409) == JOINERS - SIZE, codes
        for api in apis:
            shown = httpx.get(f"{api.base_url}/v1/boards/{board_name}", timeout=30).json()["tournament"]
            assert shown["players"] == SIZE

        # One player's attempt retried through both processes at once counts once.
        player = f"u{codes.index(201)}"
        scores = f"/v1/boards/{board_name}/scores"

        def submit(n: int) -> int:
            body = {"user_id": player, "score": 1, "key": "run-1"}
            return httpx.post(f"{apis[n % 2].base_url}{scores}", json=body, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(submit, range(8))) == {202}
        second = httpx.post(f"{apis[1].base_url}{scores}", json={"user_id": player, "score": 1, "key": "run-2"})
        assert second.status_code == 202, second.text
        third = httpx.post(f"{apis[0].base_url}{scores}", json={"user_id": player, "score": 1, "key": "run-3"})
        assert third.status_code == 422 and third.json()["error"]["rule"] == "attempts"
    finally:
        for api in apis:
            api.stop()
