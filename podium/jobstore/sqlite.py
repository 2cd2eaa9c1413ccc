"""The embedded job store: a SQLite file of its own in the data directory (jobs.db)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from podium.jobstore.base import JobRecord
from podium.plumbing.sqlite_thread import SqliteThread

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    owner TEXT NOT NULL,
    lease_until_us INTEGER NOT NULL,
    started_at_us INTEGER NOT NULL,
    finished_at_us INTEGER,
    done INTEGER NOT NULL,
    total INTEGER NOT NULL,
    applied INTEGER NOT NULL,
    step TEXT NOT NULL,
    error TEXT,
    detail TEXT NOT NULL
)
"""
# In JobRecord's field order: one order for every adapter.
COLUMNS = (
    "id, kind, state, owner, lease_until_us, started_at_us, finished_at_us, done, total, applied, step, error, detail"
)
CHANGED = ", ".join(f"{c} = ?" for c in COLUMNS.split(", ")[1:])


def row_of(r: JobRecord) -> tuple[Any, ...]:
    return (
        r.id,
        r.kind,
        r.state,
        r.owner,
        r.lease_until_us,
        r.started_at_us,
        r.finished_at_us,
        r.done,
        r.total,
        r.applied,
        r.step,
        r.error,
        r.detail,
    )


def record_of(row: Sequence[Any]) -> JobRecord:
    job_id, kind, state, owner, lease, started, finished, done, total, applied, step, error, detail = row
    return JobRecord(
        job_id, kind, state, owner, lease, started, finished, done or 0, total or 0, applied or 0, step or "", error,
        detail or "",
    )  # fmt: skip


class SqliteJobStore:
    def __init__(self, path: Path) -> None:
        self._db = SqliteThread(path, name="jobs")

    async def open(self) -> None:
        await self._db.run(lambda conn: conn.execute(SCHEMA))

    async def add(self, record: JobRecord) -> bool:
        def insert(conn: sqlite3.Connection) -> bool:
            placeholders = ", ".join("?" for _ in row_of(record))
            sql = f"INSERT INTO jobs ({COLUMNS}) VALUES ({placeholders}) ON CONFLICT (id) DO NOTHING"
            return conn.execute(sql, row_of(record)).rowcount == 1

        return await self._db.run(insert)

    async def find(self, job_id: str) -> JobRecord | None:
        def select(conn: sqlite3.Connection) -> JobRecord | None:
            row = conn.execute(f"SELECT {COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
            return record_of(row) if row is not None else None

        return await self._db.run(select)

    async def running(self) -> list[JobRecord]:
        def select(conn: sqlite3.Connection) -> list[JobRecord]:
            rows = conn.execute(f"SELECT {COLUMNS} FROM jobs WHERE state = 'running' ORDER BY id").fetchall()
            return [record_of(r) for r in rows]

        return await self._db.run(select)

    async def save(self, record: JobRecord, seen: JobRecord) -> bool:
        # One statement: SQLite runs it atomically, whichever connection (process) races it.
        sql = f"UPDATE jobs SET {CHANGED} WHERE id = ? AND state = ? AND owner = ? AND lease_until_us = ?"
        params = (*row_of(record)[1:], record.id, seen.state, seen.owner, seen.lease_until_us)
        return await self._db.run(lambda conn: conn.execute(sql, params).rowcount == 1)

    async def close(self) -> None:
        await self._db.close()
