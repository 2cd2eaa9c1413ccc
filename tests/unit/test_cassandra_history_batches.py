"""The Cassandra rank history writes a batch's points a partition (board, slot) at a time:
one request and one mutation a slot, with the trims due among them in the same batch;
and a board's forgotten users a batch of deletes a slot (podium/history/cassandra.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from podium.history.base import Point
from podium.history.cassandra import BATCH_POINTS, FORGET, INSERT, TRIM, CassandraRankHistory, slot_of


class Batches:
    """A store that keeps each batch it is handed."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[str, tuple[Any, ...]]]] = []

    async def execute_batch(self, statements: Sequence[tuple[str, tuple[Any, ...]]]) -> None:
        self.batches.append(list(statements))


def point(user: str, version: int, board: str = "arena") -> Point:
    return Point(board, user, version, version, 10 * version, 1)


def partitions(batch: list[tuple[str, tuple[Any, ...]]]) -> set[tuple[str, int]]:
    return {(params[0], params[1]) for _, params in batch}


async def test_a_batch_of_points_is_one_write_a_slot_with_its_trims() -> None:
    store = Batches()
    history = CassandraRankHistory(store, points=5)  # type: ignore[arg-type]
    users = [f"u{i}" for i in range(600)]
    points = [point(u, 3) for u in users] + [point("ada", 10), point("ada", 9), point("bob", 1, board="other")]
    await history.record(points)
    slots = {("arena", slot_of(u)) for u in [*users, "ada"]} | {("other", slot_of("bob"))}
    assert len(store.batches) == len(slots)  # no slot holds more than BATCH_POINTS here
    assert all(len(partitions(b)) == 1 for b in store.batches)  # each batch: one partition
    written = [params for b in store.batches for cql, params in b if cql == INSERT]
    assert sorted((p[2], p[3]) for p in written) == sorted((p.user_id, p.version) for p in points)
    trims = [params for b in store.batches for cql, params in b if cql == TRIM]
    assert trims == [("arena", slot_of("ada"), "ada", 5)]  # version 10: due, keeps 6..10


async def test_a_slot_with_more_points_than_a_batch_takes_several() -> None:
    store = Batches()
    history = CassandraRankHistory(store, points=1000)  # type: ignore[arg-type]
    await history.record([point("ada", v) for v in range(1, BATCH_POINTS + 2)])
    assert [len(b) for b in store.batches] == [BATCH_POINTS, 1]


async def test_forgotten_users_are_a_batch_of_deletes_a_slot() -> None:
    store = Batches()
    history = CassandraRankHistory(store, points=5)  # type: ignore[arg-type]
    users = [f"u{i}" for i in range(1000)]
    await history.forget_users("arena", users)
    assert len(store.batches) == len({slot_of(u) for u in users})
    deleted = sorted(params[2] for b in store.batches for cql, params in b if cql == FORGET)
    assert deleted == sorted(users)
    await history.forget_users("arena", [])
    assert len(store.batches) == len({slot_of(u) for u in users})  # nothing more
