"""The embedded rank history: a SQLite file of its own in the data directory (history.db),
written by the rank-worker one transaction per batch."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from podium.history.base import Point, due_for_trim
from podium.plumbing.sqlite_thread import SqliteThread, transaction

SCHEMA = """CREATE TABLE IF NOT EXISTS rank_history (
    board TEXT NOT NULL, user_id TEXT NOT NULL, at_us INTEGER NOT NULL, version INTEGER NOT NULL,
    score INTEGER NOT NULL, rank INTEGER NOT NULL,
    PRIMARY KEY (board, user_id, version)) WITHOUT ROWID"""


class SqliteRankHistory:
    def __init__(self, path: Path, *, points: int) -> None:
        # Not synced: in WAL mode a batch's points survive a crash of the process; a power loss
        # may take back the last few batches, as a crash before their write does. The history is
        # kept beside the ranking, best effort (podium/pipeline/rank_worker.py), and a sync a batch was
        # one of the four the embedded pipeline paid a batch (docs/benchmarks.md).
        self._db = SqliteThread(path, synchronous="normal", name="history")
        self._points = points

    async def open(self) -> None:
        def prepare(conn: sqlite3.Connection) -> None:
            conn.execute(SCHEMA)

        await self._db.run(prepare)

    async def record(self, points: Sequence[Point]) -> None:
        if not points:
            return
        keep = self._points

        # An explicit transaction: the connection is in autocommit mode (SqliteThread), where
        # `with conn:` begins none, and each row of an executemany was a transaction and a
        # sync of its own (335 µs a point here: the embedded rank-worker fell behind at a
        # few thousand scores a second).
        def write(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT OR REPLACE INTO rank_history (board, user_id, at_us, version, score, rank) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(p.board, p.user_id, p.at_us, p.version, p.score, p.rank) for p in points],
            )
            conn.executemany(
                "DELETE FROM rank_history WHERE board = ? AND user_id = ? AND version <= ?",
                [(p.board, p.user_id, p.version - keep) for p in points if due_for_trim(p.version, keep)],
            )

        await self._db.run(lambda conn: transaction(conn, write))

    async def points(
        self, board: str, user_id: str, *, from_us: int | None, to_us: int | None, limit: int
    ) -> list[Point]:
        def read(conn: sqlite3.Connection) -> list[Point]:
            rows = conn.execute(
                "SELECT at_us, version, score, rank FROM rank_history WHERE board = ? AND user_id = ? "
                "AND at_us >= ? AND at_us <= ? ORDER BY version DESC LIMIT ?",
                (board, user_id, _low(from_us), _high(to_us), limit),
            ).fetchall()
            return [Point(board, user_id, at, version, score, rank) for at, version, score, rank in rows]

        return await self._db.run(read)

    async def forget(self, user_id: str, boards: Sequence[str]) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            conn.executemany("DELETE FROM rank_history WHERE board = ? AND user_id = ?", [(b, user_id) for b in boards])

        await self._db.run(lambda conn: transaction(conn, delete))

    async def forget_users(self, board: str, user_ids: Sequence[str]) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            conn.executemany("DELETE FROM rank_history WHERE board = ? AND user_id = ?", [(board, u) for u in user_ids])

        await self._db.run(lambda conn: transaction(conn, delete))  # one commit a chunk

    async def close(self) -> None:
        await self._db.close()


def _low(from_us: int | None) -> int:
    return -(2**63) if from_us is None else from_us


def _high(to_us: int | None) -> int:
    return 2**63 - 1 if to_us is None else to_us
