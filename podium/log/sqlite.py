"""The embedded log: one SQLite table in WAL mode, one partition, consumer offsets.

Appends from concurrent requests are grouped into one transaction (group
commit), so each acknowledged record is on disk while the cost of the sync
is shared.

The records this process appended last are also kept in memory (podium/plumbing/tail.py),
so its consumers read a busy log without a query a poll.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from podium.domain.totals import LogPosition
from podium.log.base import LogRecord
from podium.plumbing.sqlite_thread import SqliteThread, transaction
from podium.plumbing.tail import Tail

PARTITION = 0
TAIL_RECORDS = 20_000  # records kept in memory for this process's consumers (a few MB of scores)

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    appended_at_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS consumer_offsets (
    group_name TEXT PRIMARY KEY,
    next_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS mirror_offsets (
    source TEXT PRIMARY KEY,
    next_seq INTEGER NOT NULL
);
"""

Pending = tuple[Sequence[tuple[str, bytes]], "asyncio.Future[list[LogPosition]]"]


class SqliteLog:
    def __init__(self, path: Path, *, synchronous: str = "full") -> None:
        self._path = path
        self._synchronous = synchronous
        self._writer = SqliteThread(path, synchronous=synchronous, name="log-writer")
        self._pending: list[Pending] = []
        self._flusher: asyncio.Task[None] | None = None
        self._appended = asyncio.Event()
        self._consumers: list[SqliteLogConsumer] = []
        self._tail: Tail[LogRecord] = Tail(TAIL_RECORDS)

    async def open(self) -> None:
        await self._writer.run(lambda conn: conn.executescript(SCHEMA))

    async def append(self, records: Sequence[tuple[str, bytes]]) -> list[LogPosition]:
        future: asyncio.Future[list[LogPosition]] = asyncio.get_running_loop().create_future()
        self._pending.append((records, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def append_without_positions(self, records: Sequence[tuple[str, bytes]]) -> None:
        # One transaction places them all at once: nothing to save by not placing them.
        await self.append(records)

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                results = await self._writer.run(partial(_insert_all, batch=batch))
            except Exception as exc:  # every waiter learns its append failed
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (records, future), positions in zip(batch, results, strict=True):
                if positions:
                    kept = (LogRecord(p, key, value) for (key, value), p in zip(records, positions, strict=True))
                    self._tail.extend(positions[0].offset, kept)
                if not future.done():
                    future.set_result(positions)
            self._wake_consumers()

    async def append_mirrored(self, source: str, records: Sequence[tuple[str, bytes]], next_seq: int) -> None:
        """Append records copied from another log together with how far that log is copied
        (`next_seq`, its next record), in one transaction: a copy repeated after a lost
        answer is recognised by `mirrored_next`, never appended twice. MirrorMaker 2 with
        exactly-once on does the same on Kafka (records and source offsets in one transaction)."""

        def insert(conn: sqlite3.Connection) -> None:
            now_us = time.time_ns() // 1000
            conn.executemany(
                "INSERT INTO records (key, value, appended_at_us) VALUES (?, ?, ?)",
                [(key, value, now_us) for key, value in records],
            )
            conn.execute(
                "INSERT INTO mirror_offsets (source, next_seq) VALUES (?, ?) "
                "ON CONFLICT (source) DO UPDATE SET next_seq = excluded.next_seq",
                (source, next_seq),
            )

        await self._writer.run(lambda conn: transaction(conn, insert))
        self._tail.clear()  # placed without positions here: read from the table until the next append
        self._wake_consumers()

    async def mirrored_next(self, source: str) -> int:
        """The next record of `source` to copy (1 when nothing was copied yet)."""

        def read(conn: sqlite3.Connection) -> int:
            row = conn.execute("SELECT next_seq FROM mirror_offsets WHERE source = ?", (source,)).fetchone()
            return int(row[0]) if row else 1

        return await self._writer.run(read)

    def _wake_consumers(self) -> None:
        self._appended.set()
        self._appended = asyncio.Event()

    def consumer(self, group: str) -> SqliteLogConsumer:
        consumer = SqliteLogConsumer(self, group)
        self._consumers.append(consumer)
        return consumer

    async def prune(self, retention_s: float) -> int:
        """Drop records every consumer group has committed and that are older than retention."""
        cutoff_us = int((time.time() - retention_s) * 1_000_000)

        def delete(conn: sqlite3.Connection) -> int:
            row = conn.execute("SELECT MIN(next_seq) FROM consumer_offsets").fetchone()
            if row is None or row[0] is None:
                return 0
            cur = conn.execute("DELETE FROM records WHERE seq < ? AND appended_at_us < ?", (row[0], cutoff_us))
            return cur.rowcount

        return await self._writer.run(delete)

    async def close(self) -> None:
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        for consumer in self._consumers:
            await consumer.close()
        await self._writer.close()


def _insert_all(conn: sqlite3.Connection, batch: list[Pending]) -> list[list[LogPosition]]:
    return transaction(conn, partial(_insert, batch=batch))


def _insert(conn: sqlite3.Connection, batch: list[Pending]) -> list[list[LogPosition]]:
    now_us = time.time_ns() // 1000
    rows = [(key, value, now_us) for records, _ in batch for key, value in records]
    if not rows:
        return [[] for _ in batch]
    conn.executemany("INSERT INTO records (key, value, appended_at_us) VALUES (?, ?, ?)", rows)
    # Inside this one write transaction AUTOINCREMENT gave the rows consecutive seqs,
    # ending at the table's sequence: the positions follow without a lastrowid per row.
    (last,) = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'records'").fetchone()
    seq = last - len(rows) + 1
    results: list[list[LogPosition]] = []
    for records, _ in batch:
        results.append([LogPosition(PARTITION, s) for s in range(seq, seq + len(records))])
        seq += len(records)
    return results


class SqliteLogConsumer:
    """A consumer group member; the embedded log has one partition, so one member."""

    def __init__(self, log: SqliteLog, group: str) -> None:
        self._log = log
        self._group = group
        # Its commits are offsets, never records: not synced (at most `normal`). In WAL mode an
        # offset written so survives a crash of the process; a power loss may take back the
        # last few, and the group re-reads those records: redeliveries, which the db-worker
        # recognises by the position stored with each total (podium/pipeline/db_worker.py).
        # A sync an offset was one of the four a batch cost (docs/benchmarks.md).
        sync = "normal" if log._synchronous == "full" else log._synchronous
        self._reader = SqliteThread(log._path, synchronous=sync, name=f"log-{group}")
        self._next_seq: int | None = None
        self._tenure = 0

    def tenure(self) -> int:
        # The one member of its group in its process; a rewind re-reads the committed
        # offset, and another process may have consumed from it meanwhile.
        return self._tenure

    async def _start_seq(self) -> int:
        def read(conn: sqlite3.Connection) -> int:
            row = conn.execute("SELECT next_seq FROM consumer_offsets WHERE group_name = ?", (self._group,)).fetchone()
            return row[0] if row else 1

        return await self._reader.run(read)

    async def poll(self, max_records: int, timeout_s: float) -> list[LogRecord]:
        if self._next_seq is None:
            self._next_seq = await self._start_seq()
        deadline = time.monotonic() + timeout_s
        while True:
            appended = self._log._appended  # grab before reading, so no append is missed

            def read(conn: sqlite3.Connection, start: int = self._next_seq) -> list[tuple[int, str, bytes]]:
                return conn.execute(
                    "SELECT seq, key, value FROM records WHERE seq >= ? ORDER BY seq LIMIT ?", (start, max_records)
                ).fetchall()

            _, kept = self._log._tail.read(self._next_seq, max_records)
            if kept:
                self._next_seq = kept[-1].position.offset + 1
                return kept
            rows = await self._reader.run(read)
            if rows:
                self._next_seq = rows[-1][0] + 1
                return [LogRecord(LogPosition(PARTITION, seq), key, value) for seq, key, value in rows]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            try:
                await asyncio.wait_for(appended.wait(), remaining)
            except TimeoutError:
                return []

    async def commit(self, records: Sequence[LogRecord]) -> None:
        if not records:
            return
        next_seq = records[-1].position.offset + 1

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO consumer_offsets (group_name, next_seq) VALUES (?, ?) "
                "ON CONFLICT (group_name) DO UPDATE SET next_seq = excluded.next_seq",
                (self._group, next_seq),
            )

        await self._reader.run(write)

    async def rewind(self) -> None:
        self._next_seq = None  # re-read the committed offset on the next poll
        self._tenure += 1

    async def close(self) -> None:
        await self._reader.close()
