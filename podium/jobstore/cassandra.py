"""The distributed job store: a table in the Podium keyspace (created with the rest of the
schema, podium/store/cassandra.py), read through the store's session. Every write is a
lightweight transaction (`IF NOT EXISTS`, `IF owner = ? AND ...`): Paxos makes one of two
processes claiming or ending the same job win, and tells the other."""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.jobstore.base import JobRecord
from podium.jobstore.sqlite import CHANGED, COLUMNS, record_of, row_of
from podium.plumbing import names

if TYPE_CHECKING:
    from podium.store.cassandra import CassandraStore

TABLE = "{ks}." + names.JOBS_TABLE


class CassandraJobStore:
    def __init__(self, store: CassandraStore) -> None:
        self._store = store  # owns the session: closing the store closes it

    async def add(self, record: JobRecord) -> bool:
        placeholders = ", ".join("?" for _ in row_of(record))
        rows = await self._store.execute(
            f"INSERT INTO {TABLE} ({COLUMNS}) VALUES ({placeholders}) IF NOT EXISTS", row_of(record)
        )
        return bool(rows[0][0])  # [applied]

    async def find(self, job_id: str) -> JobRecord | None:
        # A serial read would also see a Paxos round in flight; a job's reader only follows
        # progress, and every change is itself conditional, so a plain read is enough.
        rows = await self._store.execute(f"SELECT {COLUMNS} FROM {TABLE} WHERE id = ?", (job_id,))
        return record_of(rows[0]) if rows else None

    async def running(self) -> list[JobRecord]:
        # A whole-table read of a small table (a few jobs a day, each row kept a week by
        # the table's default time to live), every few seconds by each process.
        rows = await self._store.execute(f"SELECT {COLUMNS} FROM {TABLE}")
        return sorted((r for r in map(record_of, rows) if r.state == "running"), key=lambda r: r.id)

    async def save(self, record: JobRecord, seen: JobRecord) -> bool:
        rows = await self._store.execute(
            f"UPDATE {TABLE} SET {CHANGED} WHERE id = ? IF state = ? AND owner = ? AND lease_until_us = ?",
            (*row_of(record)[1:], record.id, seen.state, seen.owner, seen.lease_until_us),
        )
        return bool(rows[0][0])

    async def close(self) -> None:
        return None
