"""tier_changed across real processes on the stack (issue 22): `podium api`, `podium db-worker`
and `podium rank-worker` apart. The rank-worker, which records each change's delivery (in
Cassandra) before it applies the batch to Redis, is SIGKILLed while the users' scores flow
and started again: the batches it had not committed are read again from Kafka. The api
process sends the deliveries; the receiver on 127.0.0.1 gets every crossing of a cut-off,
signed, once by id, and nothing for the scores that kept a tier."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import httpx
import pytest

from podium.usecases.tier_changes import HOOKS_EVERY_S
from tests.distributed.stack import DIST_ENV
from tests.e2e.server import PodiumProcess
from tests.integration.webhook_receiver import Receiver, verified

pytestmark = pytest.mark.distributed

SECRET = "a-secret-of-16-chars-or-more"
ENV = {**DIST_ENV, "PODIUM_WEBHOOK_ALLOW": "127.0.0.1", "PODIUM_WEBHOOK_CHECK_S": "0.2"}
TIERS = [{"name": "gold", "min_score": 100}, {"name": "silver", "min_score": 50}]
USERS = 12
STEPS = [20, 20, 20, 20, 20, 20]  # each user: 20, 40, 60 (silver), 80, 100 (gold), 120


def expected() -> set[tuple[str, str | None, str | None, int]]:
    return {(f"p{i}", None, "silver", 60) for i in range(USERS)} | {
        (f"p{i}", "silver", "gold", 100) for i in range(USERS)
    }


def test_a_killed_rank_worker_restarted_sends_each_tier_change_once(
    running_stack: None, board_name: str, tmp_path: Path
) -> None:
    names = ("api", "db-worker", "rank-worker")
    procs = {n: PodiumProcess(tmp_path / n, command=n, env=ENV) for n in names}
    with Receiver() as receiver:
        try:
            for proc in procs.values():
                proc.start(timeout_s=60)
            api = httpx.Client(base_url=procs["api"].base_url, timeout=30)
            hook = {"url": receiver.url, "events": ["tier_changed"], "secret": SECRET}
            assert api.put(f"/v1/webhooks/{board_name}", json=hook).status_code == 201
            assert api.put(f"/v1/boards/{board_name}", json={"tiers": TIERS}).status_code == 201
            time.sleep(HOOKS_EVERY_S + 0.5)  # the rank-worker has read the webhooks again
            for round_, score in enumerate(STEPS):
                batch = {"scores": [{"user_id": f"p{i}", "score": score} for i in range(USERS)]}
                assert api.post(f"/v1/boards/{board_name}/scores/batch", json=batch).status_code == 202
                if round_ == 2:
                    procs["rank-worker"].kill()  # mid-stream: what it applied and did not commit is read again
                    procs["rank-worker"].start(timeout_s=60)
            want = expected()
            deadline = time.monotonic() + 120
            while True:
                mine = [a for a in receiver.arrivals if a.body["board"] == board_name]
                if len({a.delivery for a in mine}) >= len(want) or time.monotonic() > deadline:
                    break
                receiver.wait_for(len({a.delivery for a in receiver.arrivals}) + 1, 0.5)
            time.sleep(1.0)  # anything more would have come by now
            mine = [a for a in receiver.arrivals if a.body["board"] == board_name]
            by_id = verified(mine, SECRET)
            got = [
                (a.body["user_id"], a.body["previous_tier"], a.body["tier"], a.body["score"]) for a in by_id.values()
            ]
            assert sorted(got, key=str) == sorted(want, key=str)  # each change once by id, nothing else
            final = api.get(f"/v1/boards/{board_name}/users/p0").json()
            assert final["score"] == sum(STEPS) and final["tier"] == "gold"
        finally:
            with contextlib.suppress(httpx.HTTPError):  # the stack's store is shared: leave no webhook
                httpx.delete(f"{procs['api'].base_url}/v1/webhooks/{board_name}", timeout=30)
            for proc in procs.values():
                proc.stop()
