"""The distributed key store: a table in the Podium keyspace (created with the rest of the
schema, podium/store/cassandra.py), read through the store's session."""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.domain.keys import KeyRecord
from podium.keystore.sqlite import COLUMNS, record_from_row
from podium.plumbing import names

if TYPE_CHECKING:
    from podium.store.cassandra import CassandraStore

TABLE = "{ks}." + names.KEYS_TABLE


class CassandraKeyStore:
    def __init__(self, store: CassandraStore) -> None:
        self._store = store  # owns the session: closing the store closes it

    async def add(self, record: KeyRecord) -> None:
        await self._store.execute(
            f"INSERT INTO {TABLE} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (record.key_id, record.name, record.scope.value, record.digest, record.created_at_us, None),
        )

    async def find(self, key_id: str) -> KeyRecord | None:
        rows = await self._store.execute(f"SELECT {COLUMNS} FROM {TABLE} WHERE key_id = ?", (key_id,))
        return record_from_row(rows[0]) if rows else None

    async def records(self) -> list[KeyRecord]:
        # A whole-table read: an operator's listing of a few keys, never on a request's path.
        rows = await self._store.execute(f"SELECT {COLUMNS} FROM {TABLE}")
        return sorted((record_from_row(r) for r in rows), key=lambda r: (r.created_at_us, r.key_id))

    async def revoke(self, key_id: str, at_us: int) -> bool:
        found = await self.find(key_id)
        if found is None:
            return False
        if found.revoked_at_us is None:
            await self._store.execute(f"UPDATE {TABLE} SET revoked_at_us = ? WHERE key_id = ?", (at_us, key_id))
        return True

    async def close(self) -> None:
        return None
