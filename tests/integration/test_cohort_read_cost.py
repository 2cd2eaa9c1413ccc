"""A cohort's reads over HTTP cost the cohort, never the board (issue 22): on a board of 1,000
users in cohorts of 10, the top page, a user's entry and around within one cohort each ask
the rank index for that cohort's ten members alone, in one lookup, and for nothing else (no
page, count or place of the board). The embedded index is counted under the running app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from podium.api.app import create_app
from podium.settings import Settings
from tests.integration.test_cohorts_api import made, read
from tests.unit.test_cohort_reads import CountedIndex

USERS = 1_000
SIZE = 10


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data=tmp_path / "data", wait_timeout_s=5.0, auth="off", rate_key_per_s=0, rate_address_per_s=0)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_a_cohorts_reads_ask_the_index_for_its_members_alone(client: TestClient) -> None:
    made(client, "league", {"cohort_size": SIZE, "tie": "competition"})
    scores = [{"user_id": f"u{i:04}", "score": i % 37} for i in range(USERS)]
    sent = client.post("/v1/boards/league/scores/batch?wait=true", json={"scores": scores})
    assert sent.status_code == 200, sent.text
    assert read(client, "/v1/boards/league/top")["users"] == USERS
    cohort = [f"u{i:04}" for i in range(6 * SIZE, 7 * SIZE)]  # arrival order: cohort 7
    generations = client.app.state.services.index  # type: ignore[attr-defined]
    counted = generations.inner = CountedIndex(generations.inner)

    top = read(client, "/v1/boards/league/top", cohort="7", limit=SIZE)
    mine = read(client, f"/v1/boards/league/users/{cohort[3]}", cohort="me")
    near = read(client, f"/v1/boards/league/users/{cohort[3]}/around", cohort="me", radius=2)

    assert sorted(e["user_id"] for e in top["entries"]) == cohort and top["users"] == SIZE
    assert mine["cohort"] == 7 and len(near["entries"]) == 5
    assert counted.calls == {"unplaced": 3}  # one lookup a read, and no read of the board
    assert sorted(counted.users_asked) == sorted(cohort * 3)
