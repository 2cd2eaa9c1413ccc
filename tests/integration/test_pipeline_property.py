"""Random submissions, removals and queries through the whole embedded pipeline
(HTTP → log → db-worker → store → outbox → rank-worker → index), compared with a
plain sorted list of the expected totals once the pipeline is quiet."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from starlette.testclient import TestClient

from podium.api.app import create_app
from podium.settings import Settings
from tests.integration.test_api import core
from tests.reference import ReferenceBoard

USERS = st.sampled_from([f"p{i}" for i in range(8)])
SCORES = st.integers(-50, 50) | st.sampled_from([2**53 - 1, -(2**53 - 1)])
_client: TestClient | None = None
_boards = itertools.count()


@pytest.fixture(scope="module", autouse=True)
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    global _client
    data = Path(tmp_path_factory.mktemp("property"))
    settings = Settings(
        auth="off", data=data, wait_timeout_s=5.0, rate_key_per_s=0, rate_address_per_s=0
    )  # bulk from one address
    with TestClient(create_app(settings)) as client:
        _client = client
        yield
    _client = None


class Pipeline(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        assert _client is not None
        self.client = _client
        self.board = f"prop{next(_boards)}"
        self.model = ReferenceBoard()
        self.keys: dict[str, tuple[str, int]] = {}

    @initialize(
        order=st.sampled_from(["desc", "asc"]),
        operator=st.sampled_from(["incr", "decr", "best", "set"]),
        tie=st.sampled_from(["unique", "competition", "dense"]),
    )
    def create(self, order: str, operator: str, tie: str) -> None:
        self.model = ReferenceBoard(order=order, operator=operator, tie=tie)
        assert (
            self.client.put(
                f"/v1/boards/{self.board}", json={"order": order, "operator": operator, "tie": tie}
            ).status_code
            == 201
        )

    @rule(user=USERS, score=SCORES, wait=st.booleans())
    def submit(self, user: str, score: int, wait: bool) -> None:
        answer = self.client.post(
            f"/v1/boards/{self.board}/scores{'?wait=true' if wait else ''}", json={"user_id": user, "score": score}
        )
        self.model.submit(user, score)
        assert answer.status_code == (200 if wait else 202), answer.text
        if wait:
            assert answer.json()["score"] == self.model.totals[user]

    @rule(user=USERS, score=SCORES, key=st.sampled_from(["k1", "k2", "k3"]))
    def submit_with_key(self, user: str, score: int, key: str) -> None:
        """A client retry: a key seen before is not applied again, whatever it carries."""
        answer = self.client.post(f"/v1/boards/{self.board}/scores", json={"user_id": user, "score": score, "key": key})
        assert answer.status_code == 202
        if key not in self.keys:
            self.keys[key] = (user, score)
            self.model.submit(user, score)

    @rule(scores=st.lists(st.tuples(USERS, SCORES), min_size=1, max_size=6))
    def submit_batch(self, scores: list[tuple[str, int]]) -> None:
        body = {"scores": [{"user_id": u, "score": s} for u, s in scores]}
        assert self.client.post(f"/v1/boards/{self.board}/scores/batch", json=body).status_code == 202
        for u, s in scores:
            self.model.submit(u, s)

    @rule(user=USERS)
    def remove(self, user: str) -> None:
        assert self.client.delete(f"/v1/boards/{self.board}/users/{user}").status_code == 204
        self.model.remove(user)

    def settled_top(self) -> list[dict[str, Any]]:
        """The full ranking once it equals the model, or after 5 s whatever it is."""
        want = self.model.ranking()
        deadline = time.monotonic() + 5
        while True:
            top = self.client.get(f"/v1/boards/{self.board}/top?limit=1000").json()["entries"]
            got = [core(e) for e in top]
            if got == want or time.monotonic() > deadline:
                return got
            time.sleep(0.005)

    @invariant()
    def ranks_pages_and_windows_equal_the_reference(self) -> None:
        want = self.model.ranking()
        assert self.settled_top() == want
        board = self.client.get(f"/v1/boards/{self.board}").json()
        assert board["users"] == len(want)
        for entry in want:
            assert core(self.client.get(f"/v1/boards/{self.board}/users/{entry['user_id']}").json()) == entry
        for offset, limit in ((0, 3), (2, 2), (len(want), 5)):
            page = self.client.get(f"/v1/boards/{self.board}/top?offset={offset}&limit={limit}").json()
            assert [core(e) for e in page["entries"]] == want[offset : offset + limit]
        for i, entry in enumerate(want):
            around = self.client.get(f"/v1/boards/{self.board}/users/{entry['user_id']}/around?radius=2").json()
            assert [core(e) for e in around["entries"]] == want[max(0, i - 2) : i + 3]
        ranked = {e["user_id"] for e in want}
        for user in {f"p{i}" for i in range(8)} - ranked:
            assert self.client.get(f"/v1/boards/{self.board}/users/{user}").status_code == 404


Pipeline.TestCase.settings = settings(
    max_examples=40, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestPipeline = Pipeline.TestCase
