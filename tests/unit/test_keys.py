"""API keys without a server: how a key is made and checked, the check's cache, and
which routes need which scope."""

from __future__ import annotations

import pytest

from podium.domain.keys import KeyRecord, Scope, allows, digest, matches, new_key, parse
from podium.usecases.api_keys import Keys, TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingStore:
    """A key store in a dict, counting the reads a check makes."""

    def __init__(self) -> None:
        self.rows: dict[str, KeyRecord] = {}
        self.finds = 0

    async def add(self, record: KeyRecord) -> None:
        self.rows[record.key_id] = record

    async def find(self, key_id: str) -> KeyRecord | None:
        self.finds += 1
        return self.rows.get(key_id)

    async def records(self) -> list[KeyRecord]:
        return list(self.rows.values())

    async def revoke(self, key_id: str, at_us: int) -> bool:
        found = self.rows.get(key_id)
        if found is not None:
            self.rows[key_id] = KeyRecord(
                found.key_id, found.name, found.scope, found.digest, found.created_at_us, at_us
            )
        return found is not None

    async def close(self) -> None:
        return None


def test_a_new_key_is_stored_only_as_the_digest_of_its_secret() -> None:
    record, key = new_key(Scope.WRITE, "gs", 5)
    parsed = parse(key)
    assert parsed is not None
    key_id, secret = parsed
    assert key_id == record.key_id and len(secret) >= 43  # 32 random bytes, base64
    assert record.digest == digest(secret) and secret not in repr(record) and secret not in str(record.to_json())
    assert matches(record, secret) and not matches(record, secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    assert "digest" not in record.to_json()
    assert new_key(Scope.WRITE, "gs", 5)[1] != key


@pytest.mark.parametrize(
    "sent", ["", "pk_", "sk_0123456789abcdef_x", "pk_0123456789abcdeg_x", "pk_0123456789abcdef_", "pk_short_x"]
)
def test_what_cannot_be_a_key_is_not_parsed(sent: str) -> None:
    assert parse(sent) is None


def test_a_secret_too_long_to_be_ours_is_not_hashed() -> None:
    assert parse("pk_" + "0" * 16 + "_" + "s" * 128) is not None
    assert parse("pk_" + "0" * 16 + "_" + "s" * 129) is None


def test_scopes_are_ordered() -> None:
    assert allows(Scope.ADMIN, Scope.WRITE) and allows(Scope.WRITE, Scope.READ) and allows(Scope.READ, Scope.READ)
    assert not allows(Scope.READ, Scope.WRITE) and not allows(Scope.WRITE, Scope.ADMIN)


def test_the_cache_is_bounded_and_expires() -> None:
    clock = Clock()
    cache: TtlCache[int] = TtlCache(3, 5.0, clock)
    for i in range(4):
        cache.put(f"k{i}", i)
    assert len(cache) == 3 and cache.get("k0") == (False, None)  # the least recently used went first
    assert cache.get("k1") == (True, 1)
    clock.now += 5.0
    assert cache.get("k1") == (False, None)


async def test_a_checked_key_is_not_read_again_within_the_cache_time() -> None:
    store, clock = CountingStore(), Clock()
    keys = Keys(store, cache_s=5.0, clock=clock)
    record, key = await keys.create(Scope.READ)
    for _ in range(3):
        assert (await keys.verify(key)).key == record
    assert store.finds == 1
    clock.now += 5.0
    await keys.verify(key)
    assert store.finds == 2


async def test_a_wrong_secret_for_a_known_id_is_unknown_without_a_store_read() -> None:
    store = CountingStore()
    keys = Keys(store, cache_s=5.0, clock=Clock())
    record, key = await keys.create(Scope.ADMIN)
    await keys.verify(key)
    forged = f"pk_{record.key_id}_{'x' * 43}"
    assert (await keys.verify(forged)).refusal == "unknown"
    assert (await keys.verify("pk_nonsense")).refusal == "unknown"
    assert store.finds == 1


async def test_unknown_keys_are_remembered_apart_and_bounded() -> None:
    store = CountingStore()
    keys = Keys(store, cache_s=5.0, cache_size=2, clock=Clock())
    _, good = await keys.create(Scope.READ)
    await keys.verify(good)
    made_up = [new_key(Scope.READ, "", 0)[1] for _ in range(5)]
    for key in made_up:
        assert (await keys.verify(key)).refusal == "unknown"
    assert store.finds == 6
    await keys.verify(made_up[-1])  # remembered: no read
    await keys.verify(good)  # a flood of made-up keys did not evict the real one
    assert store.finds == 6


async def test_a_revoke_through_this_process_is_refused_at_once_elsewhere_after_the_cache_time() -> None:
    store, clock = CountingStore(), Clock()
    here = Keys(store, cache_s=5.0, clock=clock)
    elsewhere = Keys(store, cache_s=5.0, clock=clock)
    record, key = await here.create(Scope.WRITE)
    assert (await here.verify(key)).key == record and (await elsewhere.verify(key)).key == record
    assert await here.revoke(record.key_id)
    assert (await here.verify(key)).refusal == "revoked"
    assert (await elsewhere.verify(key)).key == record  # still cached there...
    clock.now += 5.0
    assert (await elsewhere.verify(key)).refusal == "revoked"  # ...for at most cache_s
    assert not await here.revoke("0" * 16)
