"""The embedded key store: a SQLite file of its own in the data directory, so that
`podium keys` can change it while `podium serve` runs."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from podium.domain.keys import KeyRecord, Scope
from podium.plumbing.sqlite_thread import SqliteThread

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_at_us INTEGER NOT NULL,
    revoked_at_us INTEGER
)
"""
COLUMNS = "key_id, name, scope, digest, created_at_us, revoked_at_us"


def record_from_row(row: Sequence[Any]) -> KeyRecord:
    key_id, name, scope, digest, created, revoked = row
    return KeyRecord(key_id, name or "", Scope(scope), digest, created, revoked)


class SqliteKeyStore:
    def __init__(self, path: Path) -> None:
        self._db = SqliteThread(path, name="keys")

    async def open(self) -> None:
        def prepare(conn: sqlite3.Connection) -> None:
            conn.execute(SCHEMA)

        await self._db.run(prepare)

    async def add(self, record: KeyRecord) -> None:
        def insert(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"INSERT INTO api_keys ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (record.key_id, record.name, record.scope.value, record.digest, record.created_at_us, None),
            )

        await self._db.run(insert)

    async def find(self, key_id: str) -> KeyRecord | None:
        def select(conn: sqlite3.Connection) -> KeyRecord | None:
            row = conn.execute(f"SELECT {COLUMNS} FROM api_keys WHERE key_id = ?", (key_id,)).fetchone()
            return record_from_row(row) if row is not None else None

        return await self._db.run(select)

    async def records(self) -> list[KeyRecord]:
        def select(conn: sqlite3.Connection) -> list[KeyRecord]:
            rows = conn.execute(f"SELECT {COLUMNS} FROM api_keys ORDER BY created_at_us, key_id").fetchall()
            return [record_from_row(r) for r in rows]

        return await self._db.run(select)

    async def revoke(self, key_id: str, at_us: int) -> bool:
        def update(conn: sqlite3.Connection) -> bool:
            conn.execute(
                "UPDATE api_keys SET revoked_at_us = ? WHERE key_id = ? AND revoked_at_us IS NULL", (at_us, key_id)
            )
            return conn.execute("SELECT 1 FROM api_keys WHERE key_id = ?", (key_id,)).fetchone() is not None

        return await self._db.run(update)

    async def close(self) -> None:
        await self._db.close()
