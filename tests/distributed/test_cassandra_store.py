"""The Cassandra store's batched writes, on the real Cassandra: a db-worker's batch of
new users spans every partition of a board and hundreds of user_boards and
applied_keys partitions, and big rows split a partition's batch; every row must
be written and read back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from podium.bootstrap import connect_store
from podium.domain.totals import LogPosition, Total
from podium.settings import Settings
from podium.store.base import AppliedKey
from podium.store.cassandra import CassandraStore

pytestmark = pytest.mark.distributed


@pytest.fixture
async def store(dist_settings: Settings) -> AsyncIterator[CassandraStore]:
    adapter = await asyncio.to_thread(connect_store, dist_settings)
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
