"""Cohorts filled by two db-workers at once: two `podium db-worker` processes on the real
stack share the ingest topic's partitions, and each places the new users of its own records
(Cassandra lightweight transactions on numbered seats). Concurrent first scores, each sent
twice (a client retry), still make cohorts of exactly N, every user in one."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.distributed.stack import DIST_ENV
from tests.e2e.server import PodiumProcess

pytestmark = pytest.mark.distributed

SIZE, USERS = 5, 48


def test_two_db_workers_place_concurrent_first_scores_in_cohorts_of_exactly_n(
    running_stack: None, board_name: str, tmp_path: Path
) -> None:
    names = ("api", "db-worker", "db-worker", "rank-worker")
    procs = [PodiumProcess(tmp_path / f"{n}-{i}", command=n, env=DIST_ENV) for i, n in enumerate(names)]
    try:
        for proc in procs:
            proc.start(timeout_s=60)
        api = procs[0].base_url
        made = httpx.put(f"{api}/v1/boards/{board_name}", json={"cohort_size": SIZE}, timeout=30)
        assert made.status_code == 201, made.text

        def first_score(i: int) -> int:
            body = {"user_id": f"p{i}", "score": i + 1, "key": f"first-{i}"}
            codes = {httpx.post(f"{api}/v1/boards/{board_name}/scores", json=body, timeout=30).status_code}
            codes.add(httpx.post(f"{api}/v1/boards/{board_name}/scores", json=body, timeout=30).status_code)
            return max(codes)

        with ThreadPoolExecutor(max_workers=16) as pool:
            assert set(pool.map(first_score, range(USERS))) == {202}
        deadline = time.monotonic() + 90
        while True:
            users = httpx.get(f"{api}/v1/boards/{board_name}", timeout=30).json()["users"]
            if users == USERS:
                break
            assert time.monotonic() < deadline, f"{users} of {USERS} users ranked"
            time.sleep(0.5)
        cohorts = {}
        for i in range(USERS):
            shown = httpx.get(f"{api}/v1/boards/{board_name}/users/p{i}", timeout=30).json()
            assert shown["score"] == i + 1, shown  # the retry applied once
            cohorts[f"p{i}"] = shown["cohort"]
        full, rest = divmod(USERS, SIZE)
        assert Counter(cohorts.values()) == Counter({c: SIZE for c in range(1, full + 1)} | {full + 1: rest})
        for number in range(1, full + 2):
            page = httpx.get(
                f"{api}/v1/boards/{board_name}/top", params={"cohort": str(number), "limit": 100}, timeout=30
            ).json()
            assert {e["user_id"] for e in page["entries"]} == {u for u, c in cohorts.items() if c == number}
    finally:
        for proc in procs:
            proc.stop()
