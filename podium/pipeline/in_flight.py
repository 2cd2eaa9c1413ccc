"""The db-worker's batches whose store writes are still in flight, oldest first.

A db-worker spent most of a batch waiting: it polled, read, wrote, committed, and only
then polled again. With a store whose writes settle by version whatever order they land
in (Cassandra: each total `USING TIMESTAMP <version>`), the next batch can be polled,
decoded and read while this one's writes fly. What that takes, and where each part lives:

- a user of the next batch already in an earlier one takes that batch's total (`total`),
  not the store's, which may not hold it yet; an idempotency key the same (`key`);
- a write that also carries what a crash must not lose before it (a new key comes with
  its `applied_keys` row) guards its users: a later batch's write of one of them waits for
  it (`guarding`). Else a crash
  could leave the later total durable and the earlier rows not, and the redelivered
  record, recognised as applied by the later total's position, would never write them;
- offsets are committed in log order, a batch's only once every earlier one is durable
  (DbWorker.run), and a failed write drops everything and rewinds, as a failed batch did.

Nothing here is acknowledged: KnownTotals and KnownKeys learn a batch's totals and keys
only when its write has landed.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from podium.domain.totals import LogPosition, Total
from podium.domain.windows import split_period_board
from podium.log.base import LogRecord
from podium.store.base import AppliedKey, IdempotencyKey, UserKey


@dataclass(slots=True)
class BatchResult:
    records: int = 0
    written: int = 0
    redelivered: int = 0
    duplicate_keys: int = 0
    invalid: int = 0
    wrong_region: int = 0


@dataclass(slots=True)
class Flight:
    """A batch decided: what it writes, what it read, and its write once started."""

    records: Sequence[LogRecord]
    result: BatchResult
    read: dict[UserKey, Total] = field(default_factory=dict)  # each user's total before the batch
    written: dict[UserKey, Total] = field(default_factory=dict)
    new_keys: dict[IdempotencyKey, AppliedKey] = field(default_factory=dict)
    # Users for whom this batch writes a new key (see the module's docstring).
    guarded: set[UserKey] = field(default_factory=set)
    write: asyncio.Task[None] | None = None


class InFlight:
    def __init__(self) -> None:
        self._flights: deque[Flight] = deque()

    def __len__(self) -> int:
        return len(self._flights)

    def __iter__(self) -> Iterator[Flight]:
        return iter(self._flights)

    def add(self, flight: Flight) -> None:
        self._flights.append(flight)

    def oldest(self) -> Flight:
        return self._flights[0]

    def oldest_written(self) -> bool:
        """Whether the oldest batch's write is over (landed or failed): waiting for it is free."""
        write = self._flights[0].write if self._flights else None
        return write is not None and write.done()

    def landed(self) -> Flight:
        """The oldest, once its write is done: it leaves the pipeline."""
        return self._flights.popleft()

    def total(self, user: UserKey) -> Total | None:
        """The user's newest total written by a batch in flight."""
        for flight in reversed(self._flights):
            total = flight.written.get(user)
            if total is not None:
                return total
        return None

    def key(self, key: IdempotencyKey) -> LogPosition | None:
        """The record that applied `key` in a batch in flight."""
        for flight in self._flights:
            applied = flight.new_keys.get(key)
            if applied is not None:
                return applied.position
        return None

    def guarding(self, users: Iterable[UserKey]) -> list[asyncio.Task[None]]:
        """The writes in flight a write of `users` must wait for."""
        guards = [f for f in self._flights if f.guarded and f.write is not None]
        if not guards:
            return []
        users = list(users)
        return [f.write for f in guards if f.write is not None and any(u in f.guarded for u in users)]

    def forget_board(self, board: str) -> None:
        """A deleted board: no later batch takes its users' totals from here (the writes
        already started go on, as a batch written just before the delete would have)."""
        for flight in self._flights:
            for user in [u for u in flight.written if (split_period_board(u[0]) or (u[0],))[0] == board]:
                del flight.written[user]

    async def settle(self) -> None:
        """Wait for every write in flight, whatever its outcome, and drop them all: after a
        failure, before the worker rewinds and reads the store again."""
        writes = [f.write for f in self._flights if f.write is not None]
        self._flights.clear()
        await asyncio.gather(*writes, return_exceptions=True)

    def cancel(self) -> None:
        """The worker stops: writes not landed are dropped, their offsets uncommitted (the
        records come again and are recognised, as after a stop mid-batch)."""
        for flight in self._flights:
            if flight.write is not None:
                flight.write.cancel()
        self._flights.clear()
