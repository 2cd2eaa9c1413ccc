"""Deleting a board deletes what is kept for it, in both profiles: a board made again under
the name shows none of the old board's rank history, cohorts, tournament players or
attempts. And a window's period dropped by expiry takes its history points with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

import podium.domain.windows as w
from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.history.base import Point
from podium.history.sqlite import SqliteRankHistory
from podium.index.generations import GenerationalRankIndex, MemoryGenerations
from podium.index.memory import MemoryRankIndex
from podium.store.sqlite import SqliteStore
from podium.usecases.board_settings import Boards
from podium.usecases.period_boards import drop_expired_periods
from tests.conftest import BoardNames
from tests.integration.test_rank_history_api import history, settled
from tests.integration.test_tournaments_api import running

DAY_US = 86_400 * 1_000_000


def made(client: TestClient, board: str) -> None:
    body: dict[str, Any] = {
        "windows": ["all", "day"],
        "cohort_size": 2,
        **running(join_required=True, max_players=3, max_attempts=1),
    }
    answer = client.put(f"/v1/boards/{board}", json=body)
    assert answer.status_code == 201, answer.text


def scored(client: TestClient, board: str, user: str, score: int, key: str) -> None:
    assert client.post(f"/v1/boards/{board}/players/{user}").status_code == 201
    answer = client.post(f"/v1/boards/{board}/scores?wait=true", json={"user_id": user, "score": score, "key": key})
    assert answer.status_code == 200, answer.text


def cohort_of(client: TestClient, board: str, user: str) -> int:
    answer = client.get(f"/v1/boards/{board}/users/{user}", params={"cohort": "me"})
    assert answer.status_code == 200, answer.text
    cohort: int = answer.json()["cohort"]
    return cohort


def test_a_board_made_again_shows_nothing_of_the_deleted_one(client: TestClient, b: BoardNames) -> None:
    made(client, b.arena)
    for user, score in (("ann", 10), ("bob", 20), ("cy", 30)):
        scored(client, b.arena, user, score, key=f"{user}-run-1")
    assert len(settled(client, b.arena, "ann", 1)) == 1
    assert cohort_of(client, b.arena, "cy") == 2  # ann and bob fill cohort 1
    assert client.get(f"/v1/boards/{b.arena}").json()["tournament"]["players"] == 3

    assert client.delete(f"/v1/boards/{b.arena}").status_code == 204
    made(client, b.arena)
    assert client.get(f"/v1/boards/{b.arena}").json()["tournament"]["players"] == 0
    refused = client.post(f"/v1/boards/{b.arena}/scores", json={"user_id": "ann", "score": 1, "key": "ann-run-2"})
    assert refused.status_code == 422 and refused.json()["error"]["rule"] == "not_joined"  # its join is gone
    # cy arrives first now: cohort 1 has room again. ann's attempt of the old board is
    # gone too: max_attempts is 1, and a new key is a new attempt that counts.
    scored(client, b.arena, "cy", 5, key="cy-run-2")
    scored(client, b.arena, "ann", 7, key="ann-run-2")
    assert cohort_of(client, b.arena, "cy") == 1 and cohort_of(client, b.arena, "ann") == 1
    top = client.get(f"/v1/boards/{b.arena}/top", params={"cohort": 1}).json()["entries"]
    assert [e["user_id"] for e in top] == ["ann", "cy"]
    assert [p["score"] for p in settled(client, b.arena, "ann", 1)] == [7]
    assert [p["score"] for p in history(client, b.arena, "ann", window="day")] == [7]
    assert history(client, b.arena, "bob") == []  # bob did not come back


async def test_an_expired_period_takes_its_points_with_it(tmp_path: Path, store: SqliteStore) -> None:
    board = Board("arena", windows=("all", "day"), keep_periods=1)
    boards = Boards(store)
    await boards.create(board)
    now_us = 1_800_000_000 * 1_000_000
    window = w.parse_window("day")
    old = w.previous_periods(window, "UTC", now_us, 3)[-1]  # older than the one period kept
    current = w.period_at(window, "UTC", now_us)
    expired, kept = w.period_board("arena", window, old.id), w.period_board("arena", window, current.id)
    kept_history = SqliteRankHistory(tmp_path / "history.db", points=10)
    await kept_history.open()
    try:
        for name in (expired, kept):
            total = Total(name, "ada", 5, 1, old.start_us, LogPosition(0, 1), updated_at_us=old.start_us)
            await store.write_totals([total], [])
            await kept_history.record([Point(name, "ada", old.start_us, 1, 5, 1)])
        index = GenerationalRankIndex(MemoryRankIndex(), MemoryGenerations())
        assert await drop_expired_periods(store, boards, index, now_us, kept_history) >= 1
        assert await kept_history.points(expired, "ada", from_us=None, to_us=None, limit=10) == []
        assert len(await kept_history.points(kept, "ada", from_us=None, to_us=None, limit=10)) == 1
        assert await store.count_totals(expired) == 0
    finally:
        await kept_history.close()
