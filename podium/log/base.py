"""The log port: an append-only, partitioned, durable record log with consumer groups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from podium.domain.totals import LogPosition


@dataclass(frozen=True, slots=True)
class LogRecord:
    position: LogPosition
    key: str
    value: bytes
    # The topic a record was read from, where a consumer reads several (the home db-worker
    # reads every region's mirrored ingest topic): a commit goes to that topic.
    topic: str = ""


class LogConsumer(Protocol):
    async def poll(self, max_records: int, timeout_s: float) -> list[LogRecord]:
        """The next records of this consumer's partitions, in order; [] on time-out."""
        ...

    async def commit(self, records: Sequence[LogRecord]) -> None:
        """Mark `records` (and all before them) done; call only once their effect is durable."""
        ...

    async def rewind(self) -> None:
        """Go back to the last committed position (after a failed batch)."""
        ...

    def tenure(self) -> int:
        """A number that changes whenever this member's partitions may have been another's
        meanwhile (it joined, a rebalance, a rewind): what it learnt of its partitions'
        users holds only within one tenure (podium/pipeline/known_totals.py)."""
        ...

    async def close(self) -> None: ...


class Log(Protocol):
    async def append(self, records: Sequence[tuple[str, bytes]]) -> list[LogPosition]:
        """Append (key, value) records durably; returns once they are acknowledged."""
        ...

    async def append_without_positions(self, records: Sequence[tuple[str, bytes]]) -> None:
        """As `append`, for records whose positions nobody asks for (a batch submitted without
        `wait`): returns once every one is acknowledged, raises if any one is not. Kafka
        reports each record; counting the reports costs less than placing each."""
        ...

    def consumer(self, group: str) -> LogConsumer: ...

    async def close(self) -> None: ...
