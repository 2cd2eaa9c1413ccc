"""The change feed port: what the store changed, delivered at least once."""

from __future__ import annotations

from collections.abc import Sequence
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
