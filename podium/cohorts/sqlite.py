"""The embedded cohort store: a SQLite file of its own in the data directory. Each user is
placed inside one `BEGIN IMMEDIATE` transaction, which takes the file's write lock first:
two processes on one data directory queue on it, so a seat is never given from a stale
count. Seats are numbered 0, 1, … in arrival order; seat s is in cohort s // size + 1. A
seat given up goes to `cohort_free_seats`, and the lowest one there is taken before a new
number: it is in the first cohort with room."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from podium.domain.cohorts import cohort_of_seat
from podium.plumbing.sqlite_thread import SqliteThread, transaction

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS cohort_seats (
        board TEXT NOT NULL, seat INTEGER NOT NULL, user_id TEXT NOT NULL, cohort INTEGER NOT NULL,
        PRIMARY KEY (board, seat), UNIQUE (board, user_id))""",
    "CREATE INDEX IF NOT EXISTS cohort_seats_by_cohort ON cohort_seats (board, cohort, seat)",
    """CREATE TABLE IF NOT EXISTS cohort_free_seats (
        board TEXT NOT NULL, seat INTEGER NOT NULL, PRIMARY KEY (board, seat)) WITHOUT ROWID""",
)


class SqliteCohortStore:
    def __init__(self, path: Path, *, synchronous: str = "full") -> None:
        self._db = SqliteThread(path, synchronous=synchronous, name="cohorts")

    async def open(self) -> None:
        def prepare(conn: sqlite3.Connection) -> None:
            for statement in SCHEMA:
                conn.execute(statement)

        await self._db.run(prepare)

    async def place(self, board: str, user_id: str, size: int) -> int:
        return (await self.place_all(board, [user_id], size))[user_id]

    async def place_all(self, board: str, user_ids: Sequence[str], size: int) -> dict[str, int]:
        """One transaction for them all: one commit (and sync) a db-worker batch, not one a user."""

        def take(conn: sqlite3.Connection) -> dict[str, int]:
            conn.execute("BEGIN IMMEDIATE")
            try:
                placed: dict[str, int] = {}
                new = _next_seat(conn, board)
                for user_id in user_ids:
                    held = placed.get(user_id, _cohort(conn, board, user_id))
                    if held is None:
                        seat = _lowest_free(conn, board)
                        if seat is None:
                            seat, new = new, new + 1
                        held = cohort_of_seat(seat, size)
                        conn.execute(
                            "INSERT INTO cohort_seats (board, seat, user_id, cohort) VALUES (?, ?, ?, ?)",
                            (board, seat, user_id, held),
                        )
                    placed[user_id] = held
                return placed
            finally:
                conn.execute("COMMIT")

        return await self._db.run(take)

    async def free(self, board: str, user_id: str) -> int | None:
        def give_up(conn: sqlite3.Connection) -> int | None:
            row = conn.execute(
                "SELECT seat, cohort FROM cohort_seats WHERE board = ? AND user_id = ?", (board, user_id)
            ).fetchone()
            if row is None:
                return None
            conn.execute("DELETE FROM cohort_seats WHERE board = ? AND seat = ?", (board, row[0]))
            conn.execute("INSERT INTO cohort_free_seats (board, seat) VALUES (?, ?)", (board, row[0]))
            return int(row[1])

        return await self._db.run(lambda conn: transaction(conn, give_up))

    async def cohort_of(self, board: str, user_id: str) -> int | None:
        return await self._db.run(lambda conn: _cohort(conn, board, user_id))

    async def members(self, board: str, cohort: int) -> list[str]:
        def read(conn: sqlite3.Connection) -> list[str]:
            rows = conn.execute(
                "SELECT user_id FROM cohort_seats WHERE board = ? AND cohort = ? ORDER BY seat", (board, cohort)
            ).fetchall()
            return [str(r[0]) for r in rows]

        return await self._db.run(read)

    async def drop(self, board: str) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM cohort_seats WHERE board = ?", (board,))
            conn.execute("DELETE FROM cohort_free_seats WHERE board = ?", (board,))

        await self._db.run(lambda conn: transaction(conn, delete))

    async def close(self) -> None:
        await self._db.close()


def _next_seat(conn: sqlite3.Connection, board: str) -> int:
    """The number after every seat taken or given up: a new seat's, when none is free."""
    row = conn.execute(
        "SELECT MAX(seat) FROM (SELECT seat FROM cohort_seats WHERE board = ? "
        "UNION ALL SELECT seat FROM cohort_free_seats WHERE board = ?)",
        (board, board),
    ).fetchone()
    return 0 if row[0] is None else int(row[0]) + 1


def _lowest_free(conn: sqlite3.Connection, board: str) -> int | None:
    """Take the lowest seat given up, if any: it is in the first cohort with room."""
    row = conn.execute("SELECT MIN(seat) FROM cohort_free_seats WHERE board = ?", (board,)).fetchone()
    if row[0] is None:
        return None
    conn.execute("DELETE FROM cohort_free_seats WHERE board = ? AND seat = ?", (board, row[0]))
    return int(row[0])


def _cohort(conn: sqlite3.Connection, board: str, user_id: str) -> int | None:
    row = conn.execute("SELECT cohort FROM cohort_seats WHERE board = ? AND user_id = ?", (board, user_id)).fetchone()
    return int(row[0]) if row is not None else None
