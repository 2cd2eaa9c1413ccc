"""The embedded tournament store: a SQLite file of its own in the data directory. Each
count is decided inside one `BEGIN IMMEDIATE` transaction, which takes the file's write
lock first: two processes on one data directory (or two api processes) queue on it, so a
place or an attempt is never counted from a stale read."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from podium.plumbing.sqlite_thread import SqliteThread, transaction
from podium.tournaments.base import Attempt, Joined

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS tournament_players (
        board TEXT NOT NULL, period TEXT NOT NULL, user_id TEXT NOT NULL, joined_at_us INTEGER NOT NULL,
        expires_at_us INTEGER, PRIMARY KEY (board, period, user_id))""",
    """CREATE TABLE IF NOT EXISTS tournament_attempts (
        board TEXT NOT NULL, period TEXT NOT NULL, user_id TEXT NOT NULL, attempt_id TEXT NOT NULL,
        expires_at_us INTEGER, PRIMARY KEY (board, period, user_id, attempt_id))""",
)
TABLES = ("tournament_players", "tournament_attempts")


class SqliteTournamentStore:
    def __init__(self, path: Path) -> None:
        self._db = SqliteThread(path, name="tournaments")

    async def open(self) -> None:
        def prepare(conn: sqlite3.Connection) -> None:
            for statement in SCHEMA:
                conn.execute(statement)
            for table in TABLES:  # a file made before rows expired gets the column (its rows: kept)
                if "expires_at_us" not in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN expires_at_us INTEGER")
            for table in TABLES:
                conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_by_expiry ON {table} (expires_at_us)")

        await self._db.run(prepare)

    async def join(
        self, board: str, period: str, user_id: str, max_players: int | None, *, expires_at_us: int | None = None
    ) -> Joined:
        def take(conn: sqlite3.Connection) -> Joined:
            conn.execute("BEGIN IMMEDIATE")
            try:
                held = conn.execute(
                    "SELECT 1 FROM tournament_players WHERE board = ? AND period = ? AND user_id = ?",
                    (board, period, user_id),
                ).fetchone()
                if held is not None:
                    return Joined.ALREADY
                if max_players is not None and _count(conn, "tournament_players", board, period) >= max_players:
                    return Joined.FULL
                conn.execute(
                    "INSERT INTO tournament_players (board, period, user_id, joined_at_us, expires_at_us) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (board, period, user_id, time.time_ns() // 1000, expires_at_us),
                )
                return Joined.JOINED
            finally:
                conn.execute("COMMIT")

        return await self._db.run(take)

    async def leave(self, board: str, period: str, user_id: str) -> bool:
        def give_up(conn: sqlite3.Connection) -> bool:
            deleted = conn.execute(
                "DELETE FROM tournament_players WHERE board = ? AND period = ? AND user_id = ?",
                (board, period, user_id),
            )
            return deleted.rowcount > 0

        return await self._db.run(give_up)

    async def has_joined(self, board: str, period: str, user_id: str) -> bool:
        def find(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                "SELECT 1 FROM tournament_players WHERE board = ? AND period = ? AND user_id = ?",
                (board, period, user_id),
            ).fetchone()
            return row is not None

        return await self._db.run(find)

    async def players(self, board: str, period: str) -> int:
        def count(conn: sqlite3.Connection) -> int:
            return _count(conn, "tournament_players", board, period)

        return await self._db.run(count)

    async def attempt(
        self,
        board: str,
        period: str,
        user_id: str,
        attempt_id: str,
        max_attempts: int,
        *,
        expires_at_us: int | None = None,
    ) -> Attempt:
        def count(conn: sqlite3.Connection) -> Attempt:
            where = "board = ? AND period = ? AND user_id = ?"
            conn.execute("BEGIN IMMEDIATE")
            try:
                seen = conn.execute(
                    f"SELECT 1 FROM tournament_attempts WHERE {where} AND attempt_id = ?",
                    (board, period, user_id, attempt_id),
                ).fetchone()
                if seen is not None:
                    return Attempt.REPEATED
                made = conn.execute(
                    f"SELECT COUNT(*) FROM tournament_attempts WHERE {where}", (board, period, user_id)
                ).fetchone()[0]
                if made >= max_attempts:
                    return Attempt.OVER
                conn.execute(
                    "INSERT INTO tournament_attempts (board, period, user_id, attempt_id, expires_at_us) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (board, period, user_id, attempt_id, expires_at_us),
                )
                return Attempt.COUNTED
            finally:
                conn.execute("COMMIT")

        return await self._db.run(count)

    async def forget_attempt(self, board: str, period: str, user_id: str, attempt_id: str) -> None:
        def forget(conn: sqlite3.Connection) -> None:
            conn.execute(
                "DELETE FROM tournament_attempts WHERE board = ? AND period = ? AND user_id = ? AND attempt_id = ?",
                (board, period, user_id, attempt_id),
            )

        await self._db.run(forget)

    async def drop(self, board: str) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM tournament_players WHERE board = ?", (board,))
            conn.execute("DELETE FROM tournament_attempts WHERE board = ?", (board,))

        await self._db.run(lambda conn: transaction(conn, delete))

    async def forget_expired(self, now_us: int) -> int:
        def delete(conn: sqlite3.Connection) -> int:
            return sum(
                conn.execute(f"DELETE FROM {table} WHERE expires_at_us <= ?", (now_us,)).rowcount for table in TABLES
            )

        return await self._db.run(lambda conn: transaction(conn, delete))

    async def close(self) -> None:
        await self._db.close()


def _count(conn: sqlite3.Connection, table: str, board: str, period: str) -> int:
    row = conn.execute(f"SELECT COUNT(*) FROM {table} WHERE board = ? AND period = ?", (board, period)).fetchone()
    return int(row[0])
