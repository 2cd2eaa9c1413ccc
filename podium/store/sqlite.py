"""The embedded store: SQLite in WAL mode.

Each write of totals also appends the same rows to the `changes` table in the
same transaction: that outbox is the embedded form of CDC (see cdc/outbox.py),
so the change feed can never miss or invent a change. The changes this process wrote last
are kept in memory too (`recent_changes`, podium/plumbing/tail.py): the feed in the same
process takes them from there, not from a query a poll.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import orjson

from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.plumbing.sqlite_thread import SqliteThread, transaction
from podium.plumbing.tail import Tail
from podium.store.base import AppliedKey, IdempotencyKey, UserKey
from podium.store.rows import COLUMNS, PLACEHOLDERS, TOTAL_COLUMNS, board_from_row, row_from_total, total_from_row

# Columns added since the first schema: a data directory made before gets them on open.
ADDED_COLUMNS = {
    "boards": ["settings TEXT"],
    "totals": [
        "subscore INTEGER NOT NULL DEFAULT 0",
        "best_total INTEGER",
        "hidden INTEGER NOT NULL DEFAULT 0",
        "display_name TEXT NOT NULL DEFAULT ''",
        "metadata TEXT NOT NULL DEFAULT ''",
        "region TEXT NOT NULL DEFAULT ''",
        "steps TEXT NOT NULL DEFAULT ''",
    ],
}
ADDED_COLUMNS["changes"] = ADDED_COLUMNS["totals"]
LOAD_CHUNK = 500  # users a read of totals: under every SQLite's limit of parameters
RECENT_CHANGES = 20_000  # changes kept in memory for the feed in this process
UPSERT_TOTALS = (
    f"INSERT INTO totals ({TOTAL_COLUMNS}) VALUES ({PLACEHOLDERS}) ON CONFLICT (board, user_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c not in ("board", "user_id"))
)


def _add_columns(conn: sqlite3.Connection) -> None:
    for table, columns in ADDED_COLUMNS.items():
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for column in columns:
            if column.split()[0] not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column}")


SCHEMA = """
CREATE TABLE IF NOT EXISTS boards (
    board TEXT PRIMARY KEY,
    sort_order TEXT NOT NULL,
    operator TEXT NOT NULL,
    settings TEXT
);
CREATE TABLE IF NOT EXISTS totals (
    board TEXT NOT NULL,
    user_id TEXT NOT NULL,
    total INTEGER NOT NULL,
    version INTEGER NOT NULL,
    reached_at_us INTEGER NOT NULL,
    log_partition INTEGER NOT NULL,
    log_offset INTEGER NOT NULL,
    removed INTEGER NOT NULL,
    updated_at_us INTEGER NOT NULL,
    subscore INTEGER NOT NULL DEFAULT 0,
    best_total INTEGER,
    hidden INTEGER NOT NULL DEFAULT 0,
    display_name TEXT NOT NULL DEFAULT '',
    metadata TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL DEFAULT '',
    steps TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (board, user_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS totals_by_user ON totals (user_id);
CREATE TABLE IF NOT EXISTS applied_keys (
    board TEXT NOT NULL,
    key TEXT NOT NULL,
    applied_at_us INTEGER NOT NULL,
    log_partition INTEGER NOT NULL,
    log_offset INTEGER NOT NULL,
    PRIMARY KEY (board, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS applied_keys_by_time ON applied_keys (applied_at_us);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    board TEXT NOT NULL,
    user_id TEXT NOT NULL,
    total INTEGER NOT NULL,
    version INTEGER NOT NULL,
    reached_at_us INTEGER NOT NULL,
    log_partition INTEGER NOT NULL,
    log_offset INTEGER NOT NULL,
    removed INTEGER NOT NULL,
    updated_at_us INTEGER NOT NULL,
    subscore INTEGER NOT NULL DEFAULT 0,
    best_total INTEGER,
    hidden INTEGER NOT NULL DEFAULT 0,
    display_name TEXT NOT NULL DEFAULT '',
    metadata TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL DEFAULT '',
    steps TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS friends (
    user_id TEXT NOT NULL,
    friend_id TEXT NOT NULL,
    PRIMARY KEY (user_id, friend_id)
) WITHOUT ROWID;
"""


class SqliteStore:
    def __init__(self, path: Path, *, synchronous: str = "full") -> None:
        self.path = path
        self.synchronous = synchronous
        self._db = SqliteThread(path, synchronous=synchronous, name="store")
        # Set (and replaced) after every write, to wake the outbox feed at once.
        self.written = asyncio.Event()
        self.recent_changes: Tail[Total] = Tail(RECENT_CHANGES)

    async def open(self) -> None:
        def prepare(conn: sqlite3.Connection) -> None:
            conn.executescript(SCHEMA.replace("CREATE INDEX IF NOT EXISTS totals_by_user ON totals (user_id);", ""))
            _add_columns(conn)
            conn.execute("CREATE INDEX IF NOT EXISTS totals_by_user ON totals (user_id)")

        await self._db.run(prepare)

    async def create_board(self, board: Board) -> tuple[Board, bool]:
        def create(conn: sqlite3.Connection) -> tuple[Board, bool]:
            cur = conn.execute(
                "INSERT INTO boards (board, sort_order, operator, settings) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (board) DO NOTHING",
                (board.name, board.order.value, board.operator.value, orjson.dumps(board.settings_json()).decode()),
            )
            if cur.rowcount == 1:
                return board, True
            existing = _read_board(conn, board.name)
            assert existing is not None
            return existing, False

        return await self._db.run(create)

    async def get_board(self, name: str) -> Board | None:
        return await self._db.run(lambda conn: _read_board(conn, name))

    async def update_board(self, board: Board) -> None:
        sql = "UPDATE boards SET settings = ? WHERE board = ?"
        await self._db.run(lambda conn: conn.execute(sql, (orjson.dumps(board.settings_json()).decode(), board.name)))

    async def delete_board(self, names: Sequence[str]) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            for name in names:
                conn.execute("DELETE FROM boards WHERE board = ?", (name,))
                conn.execute("DELETE FROM totals WHERE board = ?", (name,))

        await self._db.run(lambda conn: transaction(conn, delete))

    async def user_boards(self, user_id: str) -> list[str]:
        sql = "SELECT board FROM totals WHERE user_id = ? ORDER BY board"
        return await self._db.run(lambda conn: [r[0] for r in conn.execute(sql, (user_id,))])

    async def load_totals(self, users: Sequence[UserKey]) -> dict[UserKey, Total]:
        by_board: dict[str, list[str]] = {}
        for board, user_id in set(users):
            by_board.setdefault(board, []).append(user_id)

        def load(conn: sqlite3.Connection) -> dict[UserKey, Total]:
            # One statement a board and chunk of users, not one a user: the db-worker reads
            # every user it has not seen (each new one), and a statement a user held the GIL
            # between statements, beside the api's loop (docs/benchmarks.md).
            found: dict[UserKey, Total] = {}
            for board, user_ids in by_board.items():
                for at in range(0, len(user_ids), LOAD_CHUNK):
                    chunk = user_ids[at : at + LOAD_CHUNK]
                    marks = ", ".join("?" * len(chunk))
                    sql = f"SELECT {TOTAL_COLUMNS} FROM totals WHERE board = ? AND user_id IN ({marks})"
                    for row in conn.execute(sql, (board, *chunk)):
                        found[(row[0], row[1])] = total_from_row(row)
            return found

        return await self._db.run(load)

    async def applied_keys(self, keys: Sequence[IdempotencyKey], since_us: int) -> dict[IdempotencyKey, LogPosition]:
        def load(conn: sqlite3.Connection) -> dict[IdempotencyKey, LogPosition]:
            seen: dict[IdempotencyKey, LogPosition] = {}
            for board, key in set(keys):
                row = conn.execute(
                    "SELECT log_partition, log_offset FROM applied_keys "
                    "WHERE board = ? AND key = ? AND applied_at_us >= ?",
                    (board, key, since_us),
                ).fetchone()
                if row is not None:
                    seen[(board, key)] = LogPosition(row[0], row[1])
            return seen

        return await self._db.run(load)

    async def write_totals(self, totals: Sequence[Total], keys: Sequence[AppliedKey]) -> None:
        rows = [row_from_total(t) for t in totals]
        key_rows = [(k.board, k.key, k.applied_at_us, k.position.partition, k.position.offset) for k in keys]

        def write(conn: sqlite3.Connection) -> int:
            conn.executemany(UPSERT_TOTALS, rows)
            conn.executemany(f"INSERT INTO changes ({TOTAL_COLUMNS}) VALUES ({PLACEHOLDERS})", rows)
            # In this one write transaction AUTOINCREMENT gave the changes consecutive seqs,
            # ending at the table's sequence.
            last = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()
            conn.executemany(
                "INSERT INTO applied_keys (board, key, applied_at_us, log_partition, log_offset) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (board, key) DO UPDATE SET "
                "applied_at_us = excluded.applied_at_us, log_partition = excluded.log_partition, "
                "log_offset = excluded.log_offset",
                key_rows,
            )
            return int(last[0]) if last else 0

        last = await self._db.run(lambda conn: transaction(conn, write))
        if totals:
            self.recent_changes.extend(last - len(totals) + 1, totals)
        self.written.set()
        self.written = asyncio.Event()

    async def forget_keys(self, before_us: int) -> int:
        def delete(conn: sqlite3.Connection) -> int:
            return conn.execute("DELETE FROM applied_keys WHERE applied_at_us < ?", (before_us,)).rowcount

        return await self._db.run(delete)

    async def board_names(self) -> list[str]:
        return await self._db.run(lambda conn: [r[0] for r in conn.execute("SELECT board FROM boards ORDER BY board")])

    async def boards(self) -> list[Board]:
        sql = "SELECT board, sort_order, operator, settings FROM boards ORDER BY board"
        return await self._db.run(lambda conn: [board_from_row(*row) for row in conn.execute(sql)])

    async def has_totals(self, board: str) -> bool:
        sql = "SELECT 1 FROM totals WHERE board = ? LIMIT 1"
        return await self._db.run(lambda conn: conn.execute(sql, (board,)).fetchone() is not None)

    async def count_totals(self, board: str) -> int:
        def count(conn: sqlite3.Connection) -> int:
            return int(conn.execute("SELECT COUNT(*) FROM totals WHERE board = ?", (board,)).fetchone()[0])

        return await self._db.run(count)

    async def totals_of(self, board: str, chunk_size: int) -> AsyncIterator[list[Total]]:
        after = ""  # keyset paging on the primary key: each chunk is one short read
        while True:

            def read(conn: sqlite3.Connection, after: str = after) -> list[Total]:
                rows = conn.execute(
                    f"SELECT {TOTAL_COLUMNS} FROM totals WHERE board = ? AND user_id > ? ORDER BY user_id LIMIT ?",
                    (board, after, chunk_size),
                )
                return [total_from_row(r) for r in rows]

            chunk = await self._db.run(read)
            if not chunk:
                return
            yield chunk
            after = chunk[-1].user_id

    async def snapshot(self) -> tuple[int, list[Total]]:
        """Every total and the last change sequence number, from one consistent read."""

        def read(conn: sqlite3.Connection) -> tuple[int, list[Total]]:
            conn.execute("BEGIN")  # one read transaction: totals and outbox agree
            try:
                row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()
                totals = [total_from_row(r) for r in conn.execute(f"SELECT {TOTAL_COLUMNS} FROM totals")]
            finally:
                conn.execute("COMMIT")
            return (row[0] if row else 0), totals

        return await self._db.run(read)

    async def friends(self, user_id: str) -> list[str]:
        def read(conn: sqlite3.Connection) -> list[str]:
            rows = conn.execute("SELECT friend_id FROM friends WHERE user_id = ? ORDER BY friend_id", (user_id,))
            return [r[0] for r in rows]

        return await self._db.run(read)

    async def set_friends(self, user_id: str, friends: Sequence[str]) -> None:
        def write(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM friends WHERE user_id = ?", (user_id,))
            conn.executemany("INSERT INTO friends (user_id, friend_id) VALUES (?, ?)", [(user_id, f) for f in friends])

        await self._db.run(lambda conn: transaction(conn, write))

    async def add_friend(self, user_id: str, friend_id: str) -> None:
        sql = "INSERT INTO friends (user_id, friend_id) VALUES (?, ?) ON CONFLICT DO NOTHING"
        await self._db.run(lambda conn: conn.execute(sql, (user_id, friend_id)))  # autocommit: one statement

    async def remove_friend(self, user_id: str, friend_id: str) -> None:
        sql = "DELETE FROM friends WHERE user_id = ? AND friend_id = ?"
        await self._db.run(lambda conn: conn.execute(sql, (user_id, friend_id)))

    async def friend_lists(self) -> AsyncIterator[tuple[str, list[str]]]:
        def read(conn: sqlite3.Connection) -> list[tuple[str, str]]:
            return [(r[0], r[1]) for r in conn.execute("SELECT user_id, friend_id FROM friends ORDER BY user_id")]

        edges = await self._db.run(read)  # at most max_friends a user: one read is fine at start-up
        for user_id, group in itertools.groupby(edges, key=lambda e: e[0]):
            yield user_id, [f for _, f in group]

    async def close(self) -> None:
        await self._db.close()


def _read_board(conn: sqlite3.Connection, name: str) -> Board | None:
    row = conn.execute("SELECT board, sort_order, operator, settings FROM boards WHERE board = ?", (name,)).fetchone()
    if row is None:
        return None
    return board_from_row(row[0], row[1], row[2], row[3])
