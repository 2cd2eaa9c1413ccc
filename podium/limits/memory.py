"""The limits in this process's memory (the embedded profile: one api process)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from podium.domain.limits import Rate, take

Clock = Callable[[], float]

# Names whose state is spent are forgotten once the table has grown this much past its
# size after the last sweep: an address seen once does not stay for ever.
SWEEP_GROWTH = 10_000


class MemoryRateLimiter:
    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._tats: dict[str, float] = {}
        self._sweep_at = SWEEP_GROWTH

    async def take(self, name: str, rate: Rate) -> float:
        if rate.unlimited:
            return 0.0
        now_s = self._clock()
        tat_s, wait_s = take(rate, self._tats.get(name), now_s)
        if tat_s is not None:
            self._tats[name] = tat_s
        if len(self._tats) > self._sweep_at:
            self._tats = {n: t for n, t in self._tats.items() if t > now_s}
            self._sweep_at = len(self._tats) + SWEEP_GROWTH
        return wait_s

    async def close(self) -> None:
        self._tats.clear()


class MemorySubmissionCounter:
    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[tuple[str, str], dict[str, float]] = {}  # (board, user) → id → when counted
        self._sweep_at = SWEEP_GROWTH

    async def record(
        self, board: str, submissions: Mapping[str, Sequence[str]], limit: int, window_s: float
    ) -> dict[str, int]:
        now_s = self._clock()
        since_s = now_s - window_s
        fresh: dict[str, list[str]] = {}
        over: dict[str, int] = {}
        for user, ids in submissions.items():
            seen = {i: at for i, at in self._seen.get((board, user), {}).items() if at > since_s}
            self._seen[(board, user)] = seen
            new = fresh[user] = []
            for position, sub_id in enumerate(ids):
                if sub_id in seen or sub_id in new:
                    continue
                new.append(sub_id)
                if len(seen) + len(new) > limit:
                    over[user] = position
                    break
        if over:
            return over
        for user, new in fresh.items():
            self._seen[(board, user)].update(dict.fromkeys(new, now_s))
        self._sweep(since_s)
        return {}

    def _sweep(self, since_s: float) -> None:
        if len(self._seen) > self._sweep_at:
            self._seen = {k: s for k, s in self._seen.items() if any(at > since_s for at in s.values())}
            self._sweep_at = len(self._seen) + SWEEP_GROWTH

    async def close(self) -> None:
        self._seen.clear()
