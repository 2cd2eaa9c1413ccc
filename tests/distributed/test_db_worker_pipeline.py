"""The db-worker's pipeline on the real Cassandra (depth 3, as the distributed profile
runs it): batches whose writes land in the reverse of their order, a user in each of
them, end as the same records applied one batch at a time. Cassandra keeps each total's
highest version because every cell of a total is written `USING TIMESTAMP <version>`;
a new idempotency key makes the next write of that user wait
(podium/pipeline/in_flight.py). The log is SQLite's: what is under test is the store."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from podium.bootstrap import connect_store
from podium.domain.boards import Board
from podium.log.sqlite import SqliteLog
from podium.settings import Settings
from podium.store.cassandra import CassandraStore
from tests.integration.test_db_worker_pipeline import apply_records, essentials

pytestmark = pytest.mark.distributed


@pytest.fixture
async def store(dist_settings: Settings) -> AsyncIterator[CassandraStore]:
    adapter = await asyncio.to_thread(connect_store, dist_settings)
    yield adapter
    await adapter.close()


async def test_writes_landing_out_of_order_end_as_one_batch_at_a_time(
    store: CassandraStore, board_name: str, tmp_path: Path
) -> None:
    pipelined, reference = board_name, f"{board_name}-ref"
    users = f"{uuid.uuid4().hex[:8]}-"
    one_log, three_log = SqliteLog(tmp_path / "one.db"), SqliteLog(tmp_path / "three.db")
    await one_log.open()
    await three_log.open()
    try:
        for name in (pipelined, reference):
            await store.create_board(Board(name))
        await apply_records(one_log, store, depth=1, reverse=False, board=reference, users=users)
        held = await apply_records(three_log, store, depth=3, reverse=True, board=pipelined, users=users)
        assert held.landed != sorted(held.landed), "no write overtook an earlier one: nothing was tested"
        ids = [f"{users}{u}" for u in ("u", "w", "x")]
        want = await store.load_totals([(reference, u) for u in ids])
        got = await store.load_totals([(pipelined, u) for u in ids])
        assert {u: essentials(t) for (_, u), t in got.items()} == {u: essentials(t) for (_, u), t in want.items()}
        assert got[(pipelined, f"{users}u")].total == 1 + 2 + 3 + 4 + 7  # the retry of k1 applied once
        assert await store.user_boards(f"{users}w") == sorted([pipelined, reference])
    finally:
        await store.delete_board([pipelined, reference])
        await one_log.close()
        await three_log.close()
