"""The limits' ports. Embedded: in memory (one process); distributed: in Redis, so that
every api process counts against the same limit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from podium.domain.limits import Rate


class RateLimiter(Protocol):
    async def take(self, name: str, rate: Rate) -> float:
        """Count one request of `name` (e.g. "key:<id>", "address:<host>"): 0.0 if `rate`
        allows it, else the seconds until it would (the request is then not counted)."""
        ...

    async def close(self) -> None: ...


class SubmissionCounter(Protocol):
    async def record(
        self, board: str, submissions: Mapping[str, Sequence[str]], limit: int, window_s: float
    ) -> dict[str, int]:
        """Count each user's submissions on `board` (user → submission ids, in order; an id
        already counted in the window counts once) unless that takes some user past
        `limit` in the last `window_s`: then count nothing and answer, per such user, the
        0-based position in its ids of the first one past the limit. {}: all counted."""
        ...

    async def close(self) -> None: ...
