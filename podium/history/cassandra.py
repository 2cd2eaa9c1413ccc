"""The distributed rank history: a time-series table of the Podium keyspace, read and
written through the store's session. One partition per (board, user), clustered by the
total's version, newest first: a user's versions grow in the order its changes happened
(one log partition per user), so that is time order, and a redelivered change writes the
same row again. A partition holds at most 2 × `points` rows (a range delete trims it once
every `points` versions, base.due_for_trim), so reading a user's history with `from`/`to`
filters one small partition (ALLOW FILTERING within it, never across the table)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from podium.history.base import Point, due_for_trim
from podium.plumbing import bounded, names

if TYPE_CHECKING:
    from podium.store.cassandra import CassandraStore

TABLE = "{ks}." + names.RANK_HISTORY_TABLE
SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (board text, user_id text, version bigint, at_us bigint, score bigint, "
    "rank bigint, PRIMARY KEY ((board, user_id), version)) WITH CLUSTERING ORDER BY (version DESC)"
)
INSERT = f"INSERT INTO {TABLE} (board, user_id, version, at_us, score, rank) VALUES (?, ?, ?, ?, ?, ?)"
TRIM = f"DELETE FROM {TABLE} WHERE board = ? AND user_id = ? AND version <= ?"
FORGET = f"DELETE FROM {TABLE} WHERE board = ? AND user_id = ?"
READ = (
    f"SELECT version, at_us, score, rank FROM {TABLE} WHERE board = ? AND user_id = ? "
    "AND at_us >= ? AND at_us <= ? LIMIT ? ALLOW FILTERING"
)


class CassandraRankHistory:
    def __init__(self, store: CassandraStore, *, points: int) -> None:
        self._store = store  # owns the session: closing the store closes it
        self._points = points

    async def prepare(self) -> None:
        """Create the table if missing (idempotent; each process may run it at start)."""
        await self._store.execute(SCHEMA)

    async def record(self, points: Sequence[Point]) -> None:
        # Each point is a partition of its own, written in unlogged batches of a few partitions
        # on one replica (the store's `write_spread`, as its applied_keys): a request a point
        # was three quarters of the rank-worker's CPU in the pipeline (the driver's cost is per
        # request: py-spy, docs/benchmarks.md), and a batch that goes to one replica fans
        # nothing out. The trims, one point in every `points`, stay a request each.
        keep = self._points
        writes = self._store.write_spread(
            INSERT, [((p.board, p.user_id), (p.board, p.user_id, p.version, p.at_us, p.score, p.rank)) for p in points]
        )
        trims = [
            self._store.execute(TRIM, (p.board, p.user_id, p.version - keep))
            for p in points
            if due_for_trim(p.version, keep)
        ]
        await asyncio.gather(writes, *trims)

    async def points(
        self, board: str, user_id: str, *, from_us: int | None, to_us: int | None, limit: int
    ) -> list[Point]:
        low = -(2**63) if from_us is None else from_us
        high = 2**63 - 1 if to_us is None else to_us
        rows = await self._store.execute(READ, (board, user_id, low, high, limit))
        return [Point(board, user_id, at, version, score, rank) for version, at, score, rank in rows]

    async def forget(self, user_id: str, boards: Sequence[str]) -> None:
        await asyncio.gather(*(self._store.execute(FORGET, (board, user_id)) for board in boards))

    async def forget_users(self, board: str, user_ids: Sequence[str]) -> None:
        # A partition a user: one delete each, a bounded number in flight.
        await bounded.gather(functools.partial(self._store.execute, FORGET, (board, u)) for u in user_ids)

    async def close(self) -> None:
        return None
