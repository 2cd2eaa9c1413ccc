"""The idempotency keys a db-worker applied itself in the consumer's current tenure.

A client retrying a keyed submission sends the same user's score again, so the retry
comes through the same log partition, to the worker that applied the first: a key this
worker wrote (and the store acknowledged) within the window is applied, and the worker
answers so without reading the store. A key it does not hold is read from the store as
before: only what the worker wrote itself is held, so nothing here can say "not applied".

Valid, like KnownTotals, only within one tenure and only for acknowledged writes: the
worker drops it all at a rebalance, a rewind, a stall and a failed write.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence

from podium.domain.totals import LogPosition
from podium.store.base import AppliedKey, IdempotencyKey

MAX_KEYS = 100_000


class KnownKeys:
    def __init__(self, max_keys: int = MAX_KEYS) -> None:
        self._max_keys = max_keys
        self._keys: OrderedDict[IdempotencyKey, AppliedKey] = OrderedDict()

    def __len__(self) -> int:
        return len(self._keys)

    def take(
        self, keys: Iterable[IdempotencyKey], since_us: int
    ) -> tuple[dict[IdempotencyKey, LogPosition], list[IdempotencyKey]]:
        """Of `keys`, those held as applied at or after `since_us` (and by which record),
        and the rest, to read from the store."""
        found: dict[IdempotencyKey, LogPosition] = {}
        missing: list[IdempotencyKey] = []
        for key in dict.fromkeys(keys):
            applied = self._keys.get(key)
            if applied is not None and applied.applied_at_us >= since_us:
                found[key] = applied.position
            else:
                missing.append(key)
        return found, missing

    def remember(self, applied: Sequence[AppliedKey]) -> None:
        """Keys the store acknowledged writing."""
        if not self._max_keys:
            return
        for k in applied:
            key = (k.board, k.key)
            self._keys[key] = k
            self._keys.move_to_end(key)
        while len(self._keys) > self._max_keys:
            self._keys.popitem(last=False)

    def clear(self) -> None:
        self._keys.clear()
