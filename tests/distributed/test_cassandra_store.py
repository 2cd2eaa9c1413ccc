"""The Cassandra store's batched writes, on the real Cassandra: a db-worker's batch of
new users spans every partition of a board and hundreds of applied_keys
partitions, and big rows split a partition's batch; every row must
be written and read back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from podium.bootstrap import connect_store
from podium.domain.totals import LogPosition, Total
from podium.settings import Settings
from podium.store.base import AppliedKey
from podium.store.cassandra import SLOTS, CassandraStore, slot_of

pytestmark = pytest.mark.distributed


@pytest.fixture
async def store(dist_settings: Settings) -> AsyncIterator[CassandraStore]:
    adapter = await asyncio.to_thread(connect_store, dist_settings)
    await asyncio.to_thread(adapter.ensure_schema, dist_settings.cassandra_replication)  # as every process starts
    yield adapter
    await adapter.close()


async def test_a_batch_of_new_users_is_written_whole(store: CassandraStore, board_name: str) -> None:
    big = '{"note":"' + "x" * 1500 + '"}'  # a few of these fill a partition's batch
    totals = [
        Total(board_name, f"{board_name}-u{i}", i, 1, i, LogPosition(i % 6, i), metadata=big if i % 5 == 0 else "")
        for i in range(400)
    ]
    keys = [AppliedKey(board_name, f"k{i}", 1_000 + i, LogPosition(0, i)) for i in range(45)]
    try:
        await store.write_totals(totals, keys)
        users = [(t.board, t.user_id) for t in totals]
        assert await store.load_totals(users) == {(t.board, t.user_id): t for t in totals}
        assert await store.count_totals(board_name) == len(totals)
        boards = await asyncio.gather(*(store.user_boards(t.user_id) for t in totals))
        assert boards == [[board_name]] * len(totals)
        asked = [(board_name, f"k{i}") for i in range(50)]
        assert await store.applied_keys(asked, since_us=0) == {(k.board, k.key): k.position for k in keys}
    finally:
        await store.delete_board([board_name])


async def test_a_read_of_many_rows_gets_every_page(store: CassandraStore, board_name: str) -> None:
    # The driver hands a callback one page (5,000 rows) at a time; a read returns them all.
    totals = [Total(board_name, f"u{i}", i, 1, i, LogPosition(0, i)) for i in range(5_300)]
    try:
        await store.write_totals(totals, [])
        rows = await store.execute(
            "SELECT user_id FROM {ks}.totals WHERE board = ? AND slot IN ?", (board_name, list(range(SLOTS)))
        )
        assert sorted(r[0] for r in rows) == sorted(t.user_id for t in totals)
    finally:
        await store.delete_board([board_name])


async def test_a_read_of_many_partitions_finds_exactly_the_stored_users(store: CassandraStore, board_name: str) -> None:
    # load_totals reads a replica's partitions together (`slot IN ? AND user_id IN ?`): every
    # stored user asked for comes back once, from any number of slots, a partition of more
    # users than one read takes included; a user not stored does not, nor one of another board.
    crowd = [f"c{i}" for i in range(3_000) if slot_of(f"c{i}") == 7][:250]  # one partition, > IN_LIMIT
    stored = [
        Total(board_name, u, i, 2, i, LogPosition(0, i)) for i, u in enumerate([f"s{i}" for i in range(700)] + crowd)
    ]
    other = f"{board_name}-other"
    try:
        await store.write_totals([*stored, Total(other, "s1", 5, 1, 5, LogPosition(0, 1))], [])
        asked = [(t.board, t.user_id) for t in stored] + [(board_name, f"absent{i}") for i in range(300)]
        assert await store.load_totals(asked + asked[:50]) == {(t.board, t.user_id): t for t in stored}
        assert await store.load_totals([(board_name, f"absent{i}") for i in range(3)]) == {}
        assert await store.load_totals([]) == {}
    finally:
        await store.delete_board([board_name, other])


def test_a_keyspace_made_before_the_index_finds_its_users_boards(dist_settings: Settings) -> None:
    """A keyspace of the user_boards table's time, its totals written: ensure_schema adds the
    index on totals(user_id), waits for its build, and the boards are found from the totals."""
    keyspace = f"podium_migrate_{uuid.uuid4().hex[:8]}"
    store = CassandraStore.connect(
        dist_settings.cassandra_host_list,
        dist_settings.cassandra_port,
        keyspace,
        local_dc=dist_settings.cassandra_local_dc,
        auth=dist_settings.cassandra_auth,
    )
    session = store._session
    try:
        session.execute(
            f"CREATE KEYSPACE {keyspace} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
        )
        session.execute(
            f"CREATE TABLE {keyspace}.totals (board text, slot int, user_id text, total bigint, version bigint, "
            "reached_at_us bigint, log_partition int, log_offset bigint, removed boolean, updated_at_us bigint, "
            "PRIMARY KEY ((board, slot), user_id))"
        )
        session.execute(f"CREATE TABLE {keyspace}.user_boards (user_id text, board text, PRIMARY KEY (user_id, board))")
        insert = session.prepare(
            f"INSERT INTO {keyspace}.totals (board, slot, user_id, total, version) VALUES (?, ?, ?, 1, 1)"
        )
        for board in ("b1", "b2", "b3"):
            for i in range(200):
                session.execute(insert, (board, slot_of(f"u{i}"), f"u{i}"))
        store.ensure_schema(replication=1)
        assert asyncio.run(store.user_boards("u7")) == ["b1", "b2", "b3"]
        assert asyncio.run(store.user_boards("nobody")) == []
    finally:
        session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)
        store.shutdown()
