"""The rank history port's contract, for every adapter (Cassandra's needs the local stack):
a point kept twice is one point, reads come newest first within from/to and limit, and the
older points are trimmed once a user has more than the setting keeps. And the rank-worker's
side: a change applied again (a redelivered batch after the index was rebuilt) adds no
second point, and a change a newer one overtook within a batch still has its point."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from podium.cdc.base import Change
from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.history.base import Point, RankHistory
from podium.index.memory import MemoryRankIndex
from podium.pipeline.rank_worker import RankWorker, RankWorkerSettings
from podium.visibility.local import LocalVisibility
from tests.distributed.stack import stack_store

KEPT = 5


@contextlib.asynccontextmanager
async def opened(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RankHistory]:
    if kind == "sqlite":
        from podium.history.sqlite import SqliteRankHistory

        sqlite = SqliteRankHistory(tmp_path / "history.db", points=KEPT)
        await sqlite.open()
        try:
            yield sqlite
        finally:
            await sqlite.close()
        return
    from podium.history.cassandra import CassandraRankHistory

    async with stack_store(request) as store:
        cassandra = CassandraRankHistory(store, points=KEPT)
        await cassandra.prepare()
        yield cassandra


@pytest.fixture(params=["sqlite", pytest.param("cassandra", id="distributed", marks=pytest.mark.distributed)])
async def history(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RankHistory]:
    async with opened(request.param, request, tmp_path) as kept:
        yield kept


@pytest.fixture
def board() -> str:
    return f"hist-{uuid.uuid4().hex[:10]}"  # the distributed cases share one keyspace


def point(board: str, version: int, user: str = "ada") -> Point:
    return Point(board, user, 1_000_000 * version, version, 10 * version, 100 - version)


async def test_a_point_kept_twice_is_one_point(history: RankHistory, board: str) -> None:
    await history.record([point(board, 1), point(board, 2)])
    await history.record([point(board, 2)])  # the same change again
    kept = await history.points(board, "ada", from_us=None, to_us=None, limit=10)
    assert kept == [point(board, 2), point(board, 1)]


async def test_a_forgotten_user_keeps_no_point_on_the_boards_named(history: RankHistory, board: str) -> None:
    other = f"{board}-other"
    await history.record([point(board, 1), point(board, 2), point(other, 1), point(board, 1, user="bob")])
    await history.forget("ada", [board, f"{board}-never"])
    assert await history.points(board, "ada", from_us=None, to_us=None, limit=10) == []
    assert [p.version for p in await history.points(other, "ada", from_us=None, to_us=None, limit=10)] == [1]
    assert [p.version for p in await history.points(board, "bob", from_us=None, to_us=None, limit=10)] == [1]


async def test_forgotten_users_keep_no_point_on_the_board_named(history: RankHistory, board: str) -> None:
    other = f"{board}-other"
    users = ("ada", "bob", "cy")
    await history.record([point(b, v, u) for b in (board, other) for u in users for v in (1, 2)])
    await history.forget_users(board, ["ada", "bob", "never"])
    for user in ("ada", "bob"):
        assert await history.points(board, user, from_us=None, to_us=None, limit=10) == []
        assert [p.version for p in await history.points(other, user, from_us=None, to_us=None, limit=10)] == [2, 1]
    assert [p.version for p in await history.points(board, "cy", from_us=None, to_us=None, limit=10)] == [2, 1]
    await history.forget_users(board, [])  # an empty chunk is nothing to do


async def test_a_batch_of_many_users_keeps_every_point(history: RankHistory, board: str) -> None:
    # A rank-worker's batch: more users than one write request carries (Cassandra's adapter
    # sends a batch's points a few partitions a request), each user's point kept, none mixed.
    users = [f"u{i}" for i in range(300)]
    await history.record([point(board, 1 + i % 3, user=u) for i, u in enumerate(users)])
    for i, user in enumerate(users):
        assert await history.points(board, user, from_us=None, to_us=None, limit=10) == [
            point(board, 1 + i % 3, user=user)
        ]
    assert await history.points(board, "u300", from_us=None, to_us=None, limit=10) == []


async def test_reads_are_newest_first_within_from_to_and_limit(history: RankHistory, board: str) -> None:
    await history.record([point(board, v) for v in range(1, 5)] + [point(board, 1, user="bob")])
    every = await history.points(board, "ada", from_us=None, to_us=None, limit=10)
    assert [p.version for p in every] == [4, 3, 2, 1]
    assert [p.version for p in await history.points(board, "ada", from_us=None, to_us=None, limit=2)] == [4, 3]
    between = await history.points(board, "ada", from_us=2_000_000, to_us=3_000_000, limit=10)
    assert [p.version for p in between] == [3, 2]
    assert await history.points(board, "cy", from_us=None, to_us=None, limit=10) == []


async def test_a_user_keeps_at_least_the_setting_and_at_most_twice_it(history: RankHistory, board: str) -> None:
    for v in range(1, 4 * KEPT + 3):
        await history.record([point(board, v)])
    kept = await history.points(board, "ada", from_us=None, to_us=None, limit=100)
    newest = 4 * KEPT + 2
    assert kept[0].version == newest
    assert KEPT <= len(kept) <= 2 * KEPT
    assert [p.version for p in kept] == list(range(newest, newest - len(kept), -1))  # no gap in what is kept


class OneBatchFeed:
    """A change feed that hands out one batch each poll, never remembering a commit: every
    poll is a redelivery, as after a crash before the commit."""

    def __init__(self, changes: Sequence[Change]) -> None:
        self._changes = list(changes)

    async def poll(self, max_changes: int, timeout_s: float) -> list[Change]:
        return list(self._changes)

    async def commit(self, changes: Sequence[Change]) -> None:
        return None

    async def rewind(self) -> None:
        return None

    async def close(self) -> None:
        return None


class OneBoard:
    def __init__(self, board: Board) -> None:
        self._board = board

    async def find(self, name: str) -> Board | None:
        return self._board if name == self._board.name else None


async def test_a_redelivered_change_adds_no_second_point(history: RankHistory, board: str) -> None:
    the_board = Board(board)
    totals = [
        Total(board, "ada", 7, 1, 10, LogPosition(0, 1), updated_at_us=10),
        Total(board, "bob", 9, 1, 11, LogPosition(0, 2), updated_at_us=11),
    ]
    totals.append(Total(board, "ada", 12, 2, 12, LogPosition(0, 3), updated_at_us=12))
    feed = OneBatchFeed([Change(t.position, t) for t in totals])
    for _ in range(2):  # the second time into an empty index (rebuilt): applied again, as new
        index = MemoryRankIndex()
        boards: Any = OneBoard(the_board)
        worker = RankWorker(feed, index, boards, LocalVisibility(index), RankWorkerSettings(), history=history)
        assert await worker.run_once() == 3
        assert await worker.run_once() == 0  # the same batch again: stale in the index
    ada = await history.points(board, "ada", from_us=None, to_us=None, limit=10)
    # Both of ada's changes: the newest with its rank after the batch; the one it overtook in
    # the same batch with the rank its total has among the others after the batch.
    assert [(p.version, p.score, p.rank) for p in ada] == [(2, 12, 1), (1, 7, 2)]
    bob = await history.points(board, "bob", from_us=None, to_us=None, limit=10)
    assert [(p.version, p.score, p.rank) for p in bob] == [(1, 9, 2)]


class FailingOnce:
    """A rank history whose first write fails, as a crash between the index's apply and the
    points' write would leave it."""

    def __init__(self, kept: RankHistory) -> None:
        self.kept = kept
        self.failed = False

    async def record(self, points: Sequence[Point]) -> None:
        if not self.failed:
            self.failed = True
            raise RuntimeError("crashed before the points were written")
        await self.kept.record(points)


async def test_a_crash_between_the_index_and_the_points_loses_no_point(history: RankHistory, board: str) -> None:
    the_board = Board(board)
    totals = [
        Total(board, "ada", 7, 1, 10, LogPosition(0, 1), updated_at_us=10),
        Total(board, "bob", 9, 1, 11, LogPosition(0, 2), updated_at_us=11),
        Total(board, "ada", 12, 2, 12, LogPosition(0, 3), updated_at_us=12),
    ]
    feed = OneBatchFeed([Change(t.position, t) for t in totals])
    index = MemoryRankIndex()  # outlives the crashed worker, as Redis does
    boards: Any = OneBoard(the_board)
    failing = FailingOnce(history)
    crashed = RankWorker(feed, index, boards, LocalVisibility(index), RankWorkerSettings(), history=failing)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        await crashed.run_once()
    assert await history.points(board, "ada", from_us=None, to_us=None, limit=10) == []
    restarted = RankWorker(feed, index, boards, LocalVisibility(index), RankWorkerSettings(), history=history)
    assert await restarted.run_once() == 0  # the redelivered batch: the index holds it all
    ada = await history.points(board, "ada", from_us=None, to_us=None, limit=10)
    assert [(p.version, p.score, p.rank) for p in ada] == [(2, 12, 1), (1, 7, 2)]
    bob = await history.points(board, "bob", from_us=None, to_us=None, limit=10)
    assert [(p.version, p.score, p.rank) for p in bob] == [(1, 9, 2)]
    # A repeat of an older change than the index holds writes nothing.
    stale = OneBatchFeed([Change(totals[0].position, totals[0])])
    again = RankWorker(stale, index, boards, LocalVisibility(index), RankWorkerSettings(), history=history)
    assert await again.run_once() == 0
    assert len(await history.points(board, "ada", from_us=None, to_us=None, limit=10)) == 2
