"""api → log: stamp each accepted event with its time and append it to the ingest log."""

from __future__ import annotations

import time
from collections.abc import Sequence

from podium import metrics
from podium.codec import encode_event, log_key
from podium.domain.totals import Event, LogPosition, ScoreSubmitted, UserRemoved
from podium.log.base import Log


class Clock:
    """Microseconds since the epoch, strictly increasing within this process,
    so two submissions here never tie on time (the ranking tie-break)."""

    def __init__(self) -> None:
        self._last_us = 0

    def now_us(self) -> int:
        self._last_us = max(self._last_us + 1, time.time_ns() // 1000)
        return self._last_us


class Ingest:
    def __init__(self, log: Log, clock: Clock | None = None) -> None:
        self._log = log
        self._clock = clock or Clock()

    async def submit(self, items: Sequence[tuple[str, str, int, str | None]]) -> list[LogPosition]:
        """Append (board, user_id, score, key) submissions; returns once they are durable."""
        events: list[Event] = [
            ScoreSubmitted(board, user_id, score, key, self._clock.now_us()) for board, user_id, score, key in items
        ]
        return await self._append(events)

    async def remove(self, board: str, user_id: str) -> LogPosition:
        [position] = await self._append([UserRemoved(board, user_id, self._clock.now_us())])
        return position

    async def _append(self, events: Sequence[Event]) -> list[LogPosition]:
        positions = await self._log.append([(log_key(e.board, e.user_id), encode_event(e)) for e in events])
        metrics.SUBMISSIONS.inc(len(events))
        return positions
