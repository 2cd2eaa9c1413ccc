"""The change feed port: what the store changed, delivered at least once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from podium.domain.totals import LogPosition, Total


@dataclass(frozen=True, slots=True)
class Change:
    cursor: LogPosition  # the feed's own position (change-topic partition and offset), for commits
    total: Total


class ChangeFeed(Protocol):
    async def poll(self, max_changes: int, timeout_s: float) -> list[Change]:
        """The next changes, in store order per user; [] on time-out. May repeat after a crash."""
        ...

    async def commit(self, changes: Sequence[Change]) -> None:
        """Mark `changes` consumed; call only once their effect is durable."""
        ...

    async def rewind(self) -> None:
        """Go back to the last committed position (after a failed batch)."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ReplayStart:
    """Where a replay starts: a change-log offset (the outbox sequence number; on Kafka,
    that offset in every partition of the change topic), or a time (µs since the epoch)."""

    offset: int | None = None
    at_us: int | None = None


class ChangeHistory(Protocol):
    """The change log read again from a point, apart from the rank-worker's feed (it
    commits nothing): what `podium replay` re-applies into the rank index."""

    async def count(self, start: ReplayStart) -> int:
        """How many changes a read from `start` will give (those logged so far)."""
        ...

    def read(self, start: ReplayStart, chunk_size: int) -> AsyncIterator[list[Change]]:
        """The changes from `start` up to those logged when the read began, in chunks."""
        ...

    async def close(self) -> None: ...
