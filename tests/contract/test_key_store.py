"""The key store port's contract, for every adapter (Cassandra's needs the local stack)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from podium.domain.keys import KeyRecord, Scope, new_key
from podium.keystore.base import KeyStore
from tests.distributed.stack import stack_store


@pytest.fixture(params=["sqlite", pytest.param("cassandra", id="distributed", marks=pytest.mark.distributed)])
async def key_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[KeyStore]:
    if request.param == "sqlite":
        from podium.keystore.sqlite import SqliteKeyStore

        sqlite = SqliteKeyStore(tmp_path / "keys.db")
        await sqlite.open()
        yield sqlite
        await sqlite.close()
        return
    from podium.keystore.cassandra import CassandraKeyStore

    async with stack_store(request) as store:
        yield CassandraKeyStore(store)


def fresh(scope: Scope = Scope.READ, created_at_us: int = 1) -> KeyRecord:
    # A name of this test's own: the distributed tests share one keyspace.
    return new_key(scope, f"contract-{uuid.uuid4().hex[:8]}", created_at_us)[0]


async def test_a_key_is_found_by_its_id_as_added(key_store: KeyStore) -> None:
    record = fresh(Scope.ADMIN)
    await key_store.add(record)
    assert await key_store.find(record.key_id) == record
    assert await key_store.find("f" * 16) is None


async def test_every_key_is_listed_oldest_first(key_store: KeyStore) -> None:
    older, newer = fresh(created_at_us=10), fresh(Scope.WRITE, created_at_us=20)
    await key_store.add(newer)
    await key_store.add(older)
    listed = [r for r in await key_store.records() if r.key_id in (older.key_id, newer.key_id)]
    assert listed == [older, newer]


async def test_a_revoke_keeps_its_first_time_and_an_unknown_id_is_told(key_store: KeyStore) -> None:
    record = fresh()
    await key_store.add(record)
    assert await key_store.revoke(record.key_id, 500)
    assert await key_store.revoke(record.key_id, 900)
    found = await key_store.find(record.key_id)
    assert found is not None and found.revoked_at_us == 500 and found.digest == record.digest
    assert not await key_store.revoke("e" * 16, 500)
