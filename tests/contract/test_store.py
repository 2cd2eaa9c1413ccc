"""The store port's contract, for every adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from podium.domain.boards import Board, Operator, Order
from podium.domain.totals import LogPosition, Total
from podium.store.base import AppliedKey
from podium.store.sqlite import SqliteStore


@pytest.fixture(params=["sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqliteStore]:
    adapter = SqliteStore(tmp_path / "store.db")
    await adapter.open()
    yield adapter
    await adapter.close()


async def test_create_board_once(store: SqliteStore) -> None:
    board = Board("b", Order.ASC, Operator.BEST)
    assert await store.create_board(board) == (board, True)
    assert await store.create_board(Board("b")) == (board, False)
    assert await store.get_board("b") == board
    assert await store.get_board("nope") is None


async def test_totals_are_written_and_read_back(store: SqliteStore) -> None:
    t1 = Total("b", "u1", 10, 1, 100, LogPosition(0, 5))
    t2 = Total("b", "u2", 0, 3, 200, LogPosition(0, 6), removed=True)
    await store.write_totals([t1, t2], [])
    assert await store.load_totals([("b", "u1"), ("b", "u2"), ("b", "u3")]) == {("b", "u1"): t1, ("b", "u2"): t2}
    t1b = Total("b", "u1", 12, 2, 300, LogPosition(0, 7))
    await store.write_totals([t1b], [])
    assert (await store.load_totals([("b", "u1")]))[("b", "u1")] == t1b


async def test_idempotency_keys_are_remembered_within_the_window(store: SqliteStore) -> None:
    t = Total("b", "u", 1, 1, 1, LogPosition(0, 1))
    p1, p2 = LogPosition(0, 1), LogPosition(1, 7)
    await store.write_totals([t], [AppliedKey("b", "k1", 1_000, p1), AppliedKey("b", "k2", 5_000, p2)])
    keys = [("b", "k1"), ("b", "k2"), ("b", "k3"), ("other", "k1")]
    assert await store.applied_keys(keys, since_us=0) == {("b", "k1"): p1, ("b", "k2"): p2}
    assert await store.applied_keys(keys, since_us=2_000) == {("b", "k2"): p2}
    assert await store.forget_keys(before_us=2_000) == 1
    assert await store.applied_keys(keys, since_us=0) == {("b", "k2"): p2}


async def test_snapshot_agrees_with_the_change_sequence(store: SqliteStore) -> None:
    assert await store.snapshot() == (0, [])
    t = Total("b", "u", 1, 1, 1, LogPosition(0, 1))
    await store.write_totals([t], [])
    seq, totals = await store.snapshot()
    assert seq == 1 and totals == [t]


async def test_a_board_is_read_back_in_chunks(store: SqliteStore) -> None:
    await store.create_board(Board("b"))
    await store.create_board(Board("a"))
    written = [Total("b", f"u{i:03}", i, 1, 1, LogPosition(0, i), removed=i == 7) for i in range(25)]
    await store.write_totals([*written, Total("other", "u001", 1, 1, 1, LogPosition(0, 99))], [])
    assert await store.board_names() == ["a", "b"]
    assert await store.count_totals("b") == 25
    assert await store.count_totals("nope") == 0
    chunks = [chunk async for chunk in store.totals_of("b", chunk_size=10)]
    assert [len(c) for c in chunks] == [10, 10, 5]
    assert sorted((t for c in chunks for t in c), key=lambda t: t.user_id) == written  # tombstones too
    assert [c async for c in store.totals_of("nope", chunk_size=10)] == []


async def test_friend_lists_are_replaced_added_to_and_removed_from(store: SqliteStore) -> None:
    assert await store.friends("ada") == []
    await store.set_friends("ada", ["cy", "bob"])
    await store.set_friends("eve", ["ada"])
    assert await store.friends("ada") == ["bob", "cy"]
    await store.add_friend("ada", "dee")
    await store.add_friend("ada", "dee")  # already there: no change
    await store.remove_friend("ada", "bob")
    await store.remove_friend("ada", "nobody")
    assert await store.friends("ada") == ["cy", "dee"]
    await store.set_friends("ada", ["zed"])  # a replace drops the old list whole
    await store.set_friends("gil", [])
    assert [item async for item in store.friend_lists()] == [("ada", ["zed"]), ("eve", ["ada"])]
