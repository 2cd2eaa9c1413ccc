"""API keys: create, list, revoke, and check the key a request sends.

A check must not cost a store read per request, so each process keeps the records it
looked up (and the ids it did not find) for `cache_s`. A revoke through this process
drops the record at once; another process sees it within `cache_s`. Unknown ids are
remembered apart from known keys, each set bounded, so a flood of made-up keys can
neither evict the real ones nor reach the store twice for the same id within `cache_s`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from podium.domain.keys import REVOKED, UNKNOWN, KeyRecord, Scope, matches, new_key, parse
from podium.keystore.base import KeyStore

CACHE_SIZE = 10_000

V = TypeVar("V")


class TtlCache(Generic[V]):
    """At most `size` entries, least recently used dropped first, each kept `ttl_s`."""

    def __init__(self, size: int, ttl_s: float, clock: Callable[[], float]) -> None:
        self._size, self._ttl_s, self._clock = size, ttl_s, clock
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def get(self, key: str) -> tuple[bool, V | None]:
        """(found, value): an expired entry is not found."""
        entry = self._entries.get(key)
        if entry is None:
            return False, None
        if entry[0] <= self._clock():
            del self._entries[key]
            return False, None
        self._entries.move_to_end(key)
        return True, entry[1]

    def put(self, key: str, value: V) -> None:
        self._entries[key] = (self._clock() + self._ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def drop(self, key: str) -> None:
        self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A sent key's check: the key it is, or why it is refused (`unknown`, `revoked`)."""

    key: KeyRecord | None
    refusal: str | None = None


class Keys:
    def __init__(
        self,
        store: KeyStore,
        *,
        cache_s: float,
        cache_size: int = CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._known: TtlCache[KeyRecord] = TtlCache(cache_size, cache_s, clock)
        self._unknown: TtlCache[None] = TtlCache(cache_size, cache_s, clock)

    async def create(self, scope: Scope, name: str = "") -> tuple[KeyRecord, str]:
        """A new key: its record, and the key itself, which only the caller ever sees."""
        record, key = new_key(scope, name, time.time_ns() // 1000)
        await self._store.add(record)
        self._unknown.drop(record.key_id)
        return record, key

    async def records(self) -> list[KeyRecord]:
        return await self._store.records()

    async def revoke(self, key_id: str) -> bool:
        """Revoke the key: refused by this process at once, by others within the cache time."""
        found = await self._store.revoke(key_id, time.time_ns() // 1000)
        self._known.drop(key_id)
        return found

    async def verify(self, key: str) -> Verdict:
        parsed = parse(key)
        if parsed is None:
            return Verdict(None, UNKNOWN)
        key_id, secret = parsed
        record = await self._record(key_id)
        if record is None or not matches(record, secret):
            return Verdict(None, UNKNOWN)
        if record.revoked_at_us is not None:
            return Verdict(None, REVOKED)
        return Verdict(record)

    async def _record(self, key_id: str) -> KeyRecord | None:
        found, record = self._known.get(key_id)
        if found:
            return record
        if self._unknown.get(key_id)[0]:
            return None
        record = await self._store.find(key_id)
        if record is None:
            self._unknown.put(key_id, None)
        else:
            self._known.put(key_id, record)
        return record

    async def close(self) -> None:
        await self._store.close()
