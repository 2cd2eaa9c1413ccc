"""api → log: stamp each accepted event with its time and append it to the ingest log."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import NamedTuple

from podium.domain.boards import Operator
from podium.domain.totals import Event, LogPosition, UserHidden, UserRemoved
from podium.log.base import Log
from podium.pipeline.codec import encode_event, encode_score, log_key
from podium.plumbing import metrics


class Submission(NamedTuple):
    """A score as the API accepted it, before the log gives it a time. A named tuple, not a
    frozen dataclass: a batch builds a thousand, and a tuple is built about five times
    faster."""

    board: str
    user_id: str
    score: int
    key: str | None = None
    subscore: int = 0
    operator: Operator | None = None
    display_name: str | None = None
    metadata: str | None = None  # compact JSON text


class Clock:
    """Microseconds since the epoch, strictly increasing within this process,
    so two submissions here never tie on time (the ranking tie-break)."""

    def __init__(self) -> None:
        self._last_us = 0

    def now_us(self) -> int:
        self._last_us = max(self._last_us + 1, time.time_ns() // 1000)
        return self._last_us

    def stamps(self, count: int) -> range:
        """Times for `count` events appended together, one microsecond apart (one clock
        read, not one per event)."""
        first = self.now_us()
        self._last_us = max(self._last_us, first + count - 1)
        return range(first, first + count)


class Ingest:
    def __init__(self, log: Log, clock: Clock | None = None, *, region: str | None = None) -> None:
        self._log = log
        self._clock = clock or Clock()
        self._region = region  # stamped on every event: where it was accepted (docs/global.md)

    async def submit(self, items: Sequence[Submission]) -> list[LogPosition]:
        """Append submissions; returns once they are durable."""
        return [position for position, _ in await self.submit_timed(items)]

    async def submit_timed(self, items: Sequence[Submission]) -> list[tuple[LogPosition, int]]:
        """As `submit`, with the time each was stamped with (it picks its windows' periods)."""
        stamps = self._clock.stamps(len(items))
        positions = await self._log.append(self._records(items, stamps))
        metrics.SUBMISSIONS.inc(len(items))
        return list(zip(positions, stamps, strict=True))

    async def submit_without_positions(self, items: Sequence[Submission]) -> None:
        """Append submissions; returns once every one is durable. For a caller that waits for
        none of them to be visible: the log need not say where each landed."""
        await self._log.append_without_positions(self._records(items, self._clock.stamps(len(items))))
        metrics.SUBMISSIONS.inc(len(items))

    def _records(self, items: Sequence[Submission], stamps: range) -> list[tuple[str, bytes]]:
        # Encoded straight from the submissions: the same record encode_event writes for
        # a ScoreSubmitted, without building one per score on the hot path.
        return [
            (
                log_key(s.board, s.user_id),
                encode_score(
                    s.board,
                    s.user_id,
                    s.score,
                    at_us,
                    s.key,
                    s.subscore,
                    s.operator,
                    s.display_name,
                    s.metadata,
                    self._region,
                ),
            )
            for s, at_us in zip(items, stamps, strict=True)
        ]

    async def remove(self, board: str, user_id: str) -> LogPosition:
        [position] = await self._append([UserRemoved(board, user_id, self._clock.now_us(), self._region)])
        return position

    async def hide(self, board: str, user_id: str, hidden: bool) -> LogPosition:
        """A shadow-ban (or its lifting), ordered after the user's earlier submissions."""
        [position] = await self._append([UserHidden(board, user_id, hidden, self._clock.now_us(), self._region)])
        return position

    async def _append(self, events: Sequence[Event]) -> list[LogPosition]:
        positions = await self._log.append([(log_key(e.board, e.user_id), encode_event(e)) for e in events])
        metrics.SUBMISSIONS.inc(len(events))
        return positions
