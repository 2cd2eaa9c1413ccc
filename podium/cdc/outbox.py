"""The embedded change feed: the store's outbox table, tailed in sequence order.

The store writes each change in the same transaction as the total, so this
feed sees exactly what the store committed, in commit order. What the store in this
process wrote last is taken from its memory (`SqliteStore.recent_changes`), the rest read.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence

from podium.cdc.base import Change, ReplayStart
from podium.domain.totals import LogPosition
from podium.plumbing.sqlite_thread import SqliteThread
from podium.store.rows import TOTAL_COLUMNS, total_from_row
from podium.store.sqlite import SqliteStore


class OutboxChangeFeed:
    def __init__(self, store: SqliteStore, *, after_seq: int) -> None:
        self._store = store
        self._reader = SqliteThread(store.path, synchronous=store.synchronous, name="outbox")
        self._next_seq = after_seq + 1
        self.committed_seq = after_seq

    async def poll(self, max_changes: int, timeout_s: float) -> list[Change]:
        deadline = time.monotonic() + timeout_s
        while True:
            written = self._store.written  # grab before reading, so no write is missed

            def read(conn: sqlite3.Connection, start: int = self._next_seq) -> list[tuple[int, ...]]:
                return conn.execute(
                    f"SELECT seq, {TOTAL_COLUMNS} FROM changes WHERE seq >= ? ORDER BY seq LIMIT ?",
                    (start, max_changes),
                ).fetchall()

            first, kept = self._store.recent_changes.read(self._next_seq, max_changes)
            if kept:
                self._next_seq = first + len(kept)
                return [Change(LogPosition(0, first + i), t) for i, t in enumerate(kept)]
            rows = await self._reader.run(read)
            if rows:
                self._next_seq = rows[-1][0] + 1
                return [Change(LogPosition(0, row[0]), total_from_row(row[1:])) for row in rows]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            try:
                await asyncio.wait_for(written.wait(), remaining)
            except TimeoutError:
                return []

    async def commit(self, changes: Sequence[Change]) -> None:
        # The embedded rank index is rebuilt from the store at start, so the
        # position only needs to live in memory; it bounds outbox pruning.
        if changes:
            self.committed_seq = max(self.committed_seq, changes[-1].cursor.offset)

    async def rewind(self) -> None:
        self._next_seq = self.committed_seq + 1

    async def prune(self, keep: int) -> int:
        """Drop consumed changes, keeping the last `keep` for replay."""
        upto = self.committed_seq

        def delete(conn: sqlite3.Connection) -> int:
            row = conn.execute("SELECT MAX(seq) FROM changes").fetchone()
            if row is None or row[0] is None:
                return 0
            limit = min(upto, row[0] - keep)
            return conn.execute("DELETE FROM changes WHERE seq <= ?", (limit,)).rowcount

        return await self._reader.run(delete)

    async def close(self) -> None:
        await self._reader.close()


class OutboxHistory:
    """The outbox read again from a sequence number or a time (the changes the
    housekeeping has not pruned: the last `changes_kept`)."""

    def __init__(self, store: SqliteStore) -> None:
        self._reader = SqliteThread(store.path, synchronous=store.synchronous, name="outbox-history")

    async def _bounds(self, start: ReplayStart) -> tuple[int, int]:
        """The first and last sequence numbers to read."""

        def read(conn: sqlite3.Connection) -> tuple[int, int]:
            last = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0]
            if start.at_us is None:
                return max(start.offset or 0, 0), last
            row = conn.execute("SELECT MIN(seq) FROM changes WHERE updated_at_us >= ?", (start.at_us,)).fetchone()
            return (row[0] if row[0] is not None else last + 1), last

        return await self._reader.run(read)

    async def count(self, start: ReplayStart) -> int:
        first, last = await self._bounds(start)

        def count(conn: sqlite3.Connection) -> int:
            return int(
                conn.execute("SELECT COUNT(*) FROM changes WHERE seq BETWEEN ? AND ?", (first, last)).fetchone()[0]
            )

        return await self._reader.run(count)

    async def read(self, start: ReplayStart, chunk_size: int) -> AsyncIterator[list[Change]]:
        first, last = await self._bounds(start)
        while first <= last:

            def read(conn: sqlite3.Connection, first: int = first) -> list[tuple[int, ...]]:
                return conn.execute(
                    f"SELECT seq, {TOTAL_COLUMNS} FROM changes WHERE seq BETWEEN ? AND ? ORDER BY seq LIMIT ?",
                    (first, last, chunk_size),
                ).fetchall()

            rows = await self._reader.run(read)
            if not rows:
                return
            yield [Change(LogPosition(0, row[0]), total_from_row(row[1:])) for row in rows]
            first = rows[-1][0] + 1

    async def close(self) -> None:
        await self._reader.close()
