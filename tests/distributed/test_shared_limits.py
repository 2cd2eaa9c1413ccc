"""Limits behind a load balancer: two `podium api` processes on the real stack count one
client address's requests, and one user's submissions a minute, together (in Redis)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.distributed.stack import DIST_ENV
from tests.e2e.server import PodiumProcess

pytestmark = pytest.mark.distributed

# Five requests at once from an address, then one every 20 s: the test's requests all
# fall within the burst's refill time.
LIMITED = {**DIST_ENV, "PODIUM_RATE_ADDRESS_PER_S": "0.05", "PODIUM_RATE_ADDRESS_BURST": "5"}


def test_two_api_processes_share_one_rate_limit_and_one_submission_count(
    running_stack: None, board_name: str, tmp_path: Path
) -> None:
    first = PodiumProcess(tmp_path / "api-1", command="api", env=LIMITED)
    second = PodiumProcess(tmp_path / "api-2", command="api", env=LIMITED)
    try:
        first.start(timeout_s=60)
        second.start(timeout_s=60)
        rules = {"max_submissions_per_minute": 2}
        made = httpx.put(f"{first.base_url}/v1/boards/{board_name}", json={"rules": rules}, timeout=30)
        assert made.status_code == 201, made.text
        scores = f"/v1/boards/{board_name}/scores"
        for api in (first, second):  # one submission through each process: the user's two
            assert httpx.post(f"{api.base_url}{scores}", json={"user_id": "ann", "score": 1}).status_code == 202
        third = httpx.post(f"{first.base_url}{scores}", json={"user_id": "ann", "score": 1})
        assert third.status_code == 422 and third.json()["error"]["rule"] == "max_submissions_per_minute"
        assert httpx.get(f"{second.base_url}/v1/boards").status_code == 200  # the address's fifth request
        for api in (first, second):  # its sixth and seventh, through either process
            answer = httpx.get(f"{api.base_url}/v1/boards")
            assert answer.status_code == 429, answer.text
            assert answer.json()["error"]["code"] == "rate_limited"
            assert 1 <= int(answer.headers["retry-after"]) <= 20
        assert httpx.get(f"{first.base_url}/healthz").status_code == 200
    finally:
        first.stop()
        second.stop()
