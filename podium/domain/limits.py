"""Request rate limits as GCRA (the generic cell rate algorithm): a limit allows `per_s`
requests a second on average and up to `burst` at once. Its whole state is one number a
limited name, the theoretical arrival time (`tat`): when the allowance would be whole
again. The Redis adapter runs the same arithmetic in Lua (podium/limits/redis.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    per_s: float  # 0: no limit
    burst: int  # requests allowed at once (at least 1)

    @property
    def unlimited(self) -> bool:
        return self.per_s <= 0

    @property
    def interval_s(self) -> float:
        return 1.0 / self.per_s


def take(rate: Rate, tat_s: float | None, now_s: float) -> tuple[float | None, float]:
    """One request at `now_s` against a name whose state is `tat_s` (None: never seen):
    (the new state, 0.0) if allowed, else (the state unchanged, seconds to wait)."""
    start = max(tat_s if tat_s is not None else now_s, now_s)
    new_tat = start + rate.interval_s
    allowed_at = new_tat - rate.interval_s * max(rate.burst, 1)
    if allowed_at > now_s:
        return tat_s, allowed_at - now_s
    return new_tat, 0.0


def retry_after_s(wait_s: float) -> int:
    """The Retry-After header's whole seconds: at least 1, never early."""
    return max(1, math.ceil(wait_s))
