"""The store port's contract, for every adapter: SQLite (embedded) and Cassandra
(distributed, on the local stack, in a keyspace of this session's own).

Every name a test writes is its own (`n.b` is board "b" of this test), so the
tests share the Cassandra keyspace but never a row; the SQLite store is a new file
for each test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from podium.domain.boards import Board, Operator, Order
from podium.domain.totals import LogPosition, Total
from podium.domain.windows import period_board
from podium.store.base import AppliedKey, Store
from podium.store.cassandra import CassandraStore
from podium.store.sqlite import SqliteStore


class Names:
    """`n.b` is the name "b" made this test's own. The suffix keeps the names' order."""

    def __init__(self) -> None:
        self._suffix = uuid.uuid4().hex[:10]

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        return self(name)

    def __call__(self, name: str) -> str:
        return f"{name}-{self._suffix}"


@pytest.fixture
def n() -> Names:
    return Names()


@pytest.fixture(scope="session")
def cassandra_store(running_stack: None) -> Iterator[CassandraStore]:
    """One connection to the stack's Cassandra, on a fresh keyspace dropped at the end."""
    from tests.distributed.stack import stack_settings

    settings = stack_settings()
    keyspace = f"podium_contract_{uuid.uuid4().hex[:8]}"
    store = CassandraStore.connect(
        settings.cassandra_host_list,
        settings.cassandra_port,
        keyspace,
        local_dc=settings.cassandra_local_dc,
        auth=settings.cassandra_auth,
    )
    store.ensure_schema(replication=1)
    try:
        yield store
    finally:
        store._session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)
        store.shutdown()


@pytest.fixture(params=["sqlite", pytest.param("cassandra", marks=pytest.mark.distributed)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "cassandra":
        yield request.getfixturevalue("cassandra_store")  # closed with the session
        return
    adapter = SqliteStore(tmp_path / "store.db")
    await adapter.open()
    yield adapter
    await adapter.close()


def differs_on(request: pytest.FixtureRequest, adapter: str, reason: str) -> None:
    """Where `adapter` departs from the contract: the case is expected to fail, and must."""
    if request.node.callspec.params.get("store") == adapter:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


async def test_create_board_once(store: Store, n: Names) -> None:
    board = Board(n.b, Order.ASC, Operator.BEST)
    assert await store.create_board(board) == (board, True)
    assert await store.create_board(Board(n.b)) == (board, False)
    assert await store.get_board(n.b) == board
    assert await store.get_board(n.nope) is None


async def test_a_board_s_settings_are_updated(store: Store, n: Names) -> None:
    await store.create_board(Board(n.b, Order.ASC, Operator.BEST))
    changed = Board(n.b, Order.ASC, Operator.BEST, keep_periods=3, allow_operator_override=True)
    await store.update_board(changed)
    assert await store.get_board(n.b) == changed


async def test_totals_are_written_and_read_back(store: Store, n: Names) -> None:
    t1 = Total(n.b, "u1", 10, 1, 100, LogPosition(0, 5))
    t2 = Total(n.b, "u2", 0, 3, 200, LogPosition(0, 6), removed=True)
    await store.write_totals([t1, t2], [])
    asked = [(n.b, "u1"), (n.b, "u2"), (n.b, "u3")]
    assert await store.load_totals(asked) == {(n.b, "u1"): t1, (n.b, "u2"): t2}
    t1b = Total(n.b, "u1", 12, 2, 300, LogPosition(0, 7))
    await store.write_totals([t1b], [])
    assert (await store.load_totals([(n.b, "u1")]))[(n.b, "u1")] == t1b


async def test_many_users_totals_on_several_boards_are_read_at_once(store: Store, n: Names) -> None:
    """The db-worker reads every user it has not seen in one call: thousands after a start."""
    written = [Total(n.b, f"u{i:04d}", i, 1, i, LogPosition(0, i)) for i in range(1100)]
    written += [Total(n.c, f"u{i:04d}", -i, 1, i, LogPosition(0, 2000 + i)) for i in range(0, 1100, 500)]
    await store.write_totals(written, [])
    asked = [(t.board, t.user_id) for t in written] + [(n.b, "nobody"), (n.c, "u0001"), (n.d, "u0000")]
    assert await store.load_totals(asked) == {(t.board, t.user_id): t for t in written}


async def test_idempotency_keys_are_remembered_within_the_window(store: Store, n: Names) -> None:
    t = Total(n.b, "u", 1, 1, 1, LogPosition(0, 1))
    p1, p2 = LogPosition(0, 1), LogPosition(1, 7)
    await store.write_totals([t], [AppliedKey(n.b, "k1", 1_000, p1), AppliedKey(n.b, "k2", 5_000, p2)])
    keys = [(n.b, "k1"), (n.b, "k2"), (n.b, "k3"), (n.other, "k1")]
    assert await store.applied_keys(keys, since_us=0) == {(n.b, "k1"): p1, (n.b, "k2"): p2}
    assert await store.applied_keys(keys, since_us=2_000) == {(n.b, "k2"): p2}


async def test_old_idempotency_keys_are_forgotten(store: Store, n: Names, request: pytest.FixtureRequest) -> None:
    differs_on(
        request,
        "cassandra",
        "Cassandra drops keys only by the applied_keys table's time to live (default_time_to_live = the "
        "idempotency window); forget_keys does nothing and says 0",
    )
    t = Total(n.b, "u", 1, 1, 1, LogPosition(0, 1))
    p1, p2 = LogPosition(0, 1), LogPosition(1, 7)
    await store.write_totals([t], [AppliedKey(n.b, "k1", 1_000, p1), AppliedKey(n.b, "k2", 5_000, p2)])
    assert await store.forget_keys(before_us=2_000) == 1
    assert await store.applied_keys([(n.b, "k1"), (n.b, "k2")], since_us=0) == {(n.b, "k2"): p2}


async def test_a_board_is_read_back_in_chunks(store: Store, n: Names) -> None:
    await store.create_board(Board(n.b))
    await store.create_board(Board(n.a))
    written = [Total(n.b, f"u{i:03}", i, 1, 1, LogPosition(0, i), removed=i == 7) for i in range(25)]
    await store.write_totals([*written, Total(n.other, "u001", 1, 1, 1, LogPosition(0, 99))], [])
    assert [name for name in await store.board_names() if name in (n.a, n.b, n.other)] == [n.a, n.b]
    assert await store.count_totals(n.b) == 25
    assert await store.count_totals(n.nope) == 0
    assert await store.has_totals(n.b) and await store.has_totals(n.other)
    assert not await store.has_totals(n.nope)
    chunks = [chunk async for chunk in store.totals_of(n.b, chunk_size=10)]
    assert all(0 < len(c) <= 10 for c in chunks)  # how a store cuts the chunks is its own
    assert sorted((t for c in chunks for t in c), key=lambda t: t.user_id) == written  # tombstones too
    assert [c async for c in store.totals_of(n.nope, chunk_size=10)] == []


async def test_a_board_holding_only_a_tombstone_has_totals(store: Store, n: Names) -> None:
    await store.write_totals([Total(n.b, "gone", 0, 1, 2, LogPosition(0, 1), removed=True)], [])
    assert await store.has_totals(n.b)  # as count_totals counts it: tombstones included
    assert await store.count_totals(n.b) == 1


async def test_every_board_is_read_with_its_settings_in_one_call(store: Store, n: Names) -> None:
    weekly = Board(n.b, order=Order.ASC, operator=Operator.BEST, windows=("all", "week"), keep_periods=3)
    await store.create_board(weekly)
    await store.create_board(Board(n.a))
    found = [b for b in await store.boards() if b.name in (n.a, n.b, n.other)]
    assert found == [Board(n.a), weekly]  # sorted by name, each as get_board reads it
    assert found == [await store.get_board(n.a), await store.get_board(n.b)]
    assert [b.windows for b in found] == [("all",), ("all", "week")]


async def test_a_user_s_boards_are_found(store: Store, n: Names) -> None:
    user = n.ada
    await store.write_totals(
        [Total(n.b, user, 1, 1, 1, LogPosition(0, 1)), Total(n.a, user, 2, 1, 1, LogPosition(0, 2))], []
    )
    await store.write_totals([Total(n.b, user, 0, 2, 2, LogPosition(0, 3), removed=True)], [])  # tombstones too
    assert await store.user_boards(user) == [n.a, n.b]
    assert await store.user_boards(n.nobody) == []


async def test_a_user_s_boards_are_those_holding_their_totals(store: Store, n: Names) -> None:
    user = n.ada
    period = period_board(n.b, "week", "2026-W49")  # a period board's totals are found like any board's
    await store.create_board(Board(n.b))
    await store.write_totals(
        [Total(name, user, 1, 1, 1, LogPosition(0, i)) for i, name in enumerate([n.a, n.b, period, n.c])], []
    )
    await store.write_totals([Total(n.a, user, 5, 2, 2, LogPosition(0, 9))], [])  # a later total: listed once
    assert await store.user_boards(user) == sorted([n.a, n.b, period, n.c])
    await store.delete_board([n.b])  # a deleted board's totals go, and the board with them
    assert await store.user_boards(user) == sorted([n.a, period, n.c])


async def test_a_deleted_board_takes_its_totals(store: Store, n: Names) -> None:
    await store.create_board(Board(n.b))
    await store.create_board(Board(n.keep))
    await store.write_totals(
        [Total(n.b, "u", 1, 1, 1, LogPosition(0, 1)), Total(n.keep, "u", 1, 1, 1, LogPosition(0, 2))], []
    )
    await store.delete_board([n.b])
    assert await store.get_board(n.b) is None
    assert await store.count_totals(n.b) == 0
    assert await store.load_totals([(n.b, "u")]) == {}
    assert await store.count_totals(n.keep) == 1


async def test_friend_lists_are_replaced_added_to_and_removed_from(store: Store, n: Names) -> None:
    ada, bob, cy, dee, eve, gil, zed = (n(name) for name in ("ada", "bob", "cy", "dee", "eve", "gil", "zed"))
    assert await store.friends(ada) == []
    await store.set_friends(ada, [cy, bob])
    await store.set_friends(eve, [ada])
    assert await store.friends(ada) == [bob, cy]
    await store.add_friend(ada, dee)
    await store.add_friend(ada, dee)  # already there: no change
    await store.remove_friend(ada, bob)
    await store.remove_friend(ada, n.nobody)
    assert await store.friends(ada) == [cy, dee]
    await store.set_friends(ada, [zed])  # a replace drops the old list whole
    await store.set_friends(gil, [])
    mine = {ada, eve, gil}
    assert sorted([item async for item in store.friend_lists() if item[0] in mine]) == [(ada, [zed]), (eve, [ada])]


async def test_sqlite_snapshot_agrees_with_the_change_sequence(tmp_path: Path) -> None:
    """SQLite only: the embedded rank index is rebuilt from a snapshot and the outbox
    sequence it reflects (the distributed one is rebuilt by `podium rebuild`)."""
    store = SqliteStore(tmp_path / "store.db")
    await store.open()
    try:
        assert await store.snapshot() == (0, [])
        t = Total("b", "u", 1, 1, 1, LogPosition(0, 1))
        await store.write_totals([t], [])
        seq, totals = await store.snapshot()
        assert seq == 1 and totals == [t]
    finally:
        await store.close()
