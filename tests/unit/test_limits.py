"""Rate limits (GCRA) and the submissions counted a minute, in memory, on an injected clock."""

from __future__ import annotations

import pytest

from podium.domain.limits import Rate, retry_after_s, take
from podium.limits.memory import MemoryRateLimiter, MemorySubmissionCounter


class Clock:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


def test_take_allows_the_burst_then_one_per_interval() -> None:
    rate = Rate(per_s=2.0, burst=3)
    tat: float | None = None
    for _ in range(3):
        tat, wait_s = take(rate, tat, 10.0)
        assert wait_s == 0.0
    unchanged, wait_s = take(rate, tat, 10.0)
    assert unchanged == tat and wait_s == pytest.approx(0.5)  # one more in half a second
    tat, wait_s = take(rate, tat, 10.5)
    assert wait_s == 0.0
    _, wait_s = take(rate, tat, 10.5)
    assert wait_s == pytest.approx(0.5)


def test_retry_after_is_whole_seconds_never_early() -> None:
    assert [retry_after_s(w) for w in (0.001, 0.5, 1.0, 1.01, 7.9)] == [1, 1, 1, 2, 8]


async def test_memory_limiter_counts_each_name_apart_and_refills_with_time() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(clock)
    rate = Rate(per_s=1.0, burst=2)
    assert [await limiter.take("address:a", rate) for _ in range(2)] == [0.0, 0.0]
    assert await limiter.take("address:a", rate) == pytest.approx(1.0)
    assert await limiter.take("address:b", rate) == 0.0  # another address has its own allowance
    clock.now_s += 1.0
    assert await limiter.take("address:a", rate) == 0.0
    assert await limiter.take("address:a", rate) == pytest.approx(1.0)
    assert await limiter.take("address:a", Rate(per_s=0, burst=1)) == 0.0  # 0: no limit


async def test_memory_limiter_forgets_spent_names() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(clock)
    rate = Rate(per_s=100.0, burst=1)
    for i in range(10_000):
        await limiter.take(f"address:{i}", rate)
    clock.now_s += 1.0
    await limiter.take("address:last", rate)  # one past the table's growth: a sweep
    assert len(limiter._tats) == 1  # every other name's allowance was whole again
    assert await limiter.take("address:last", rate) > 0  # the kept one still counts


async def test_counter_refuses_past_the_limit_and_counts_nothing_then() -> None:
    clock = Clock()
    counter = MemorySubmissionCounter(clock)
    assert await counter.record("arena", {"ann": ["n:1", "n:2"]}, 3, 60.0) == {}
    # ann's second id would be her fourth: refused, and bob's id is not counted either.
    assert await counter.record("arena", {"bob": ["n:3"], "ann": ["n:4", "n:5"]}, 3, 60.0) == {"ann": 1}
    assert await counter.record("arena", {"bob": ["n:6", "n:7", "n:8"]}, 3, 60.0) == {}
    assert await counter.record("other", {"ann": ["n:9", "n:10", "n:11"]}, 3, 60.0) == {}  # per board
    clock.now_s += 60.0
    assert await counter.record("arena", {"ann": ["n:12", "n:13", "n:14"]}, 3, 60.0) == {}  # the minute passed


async def test_counter_counts_a_replayed_id_once() -> None:
    counter = MemorySubmissionCounter(Clock())
    assert await counter.record("arena", {"ann": ["k:a", "k:a", "k:b"]}, 2, 60.0) == {}
    assert await counter.record("arena", {"ann": ["k:a", "k:b"]}, 2, 60.0) == {}  # both replays
    assert await counter.record("arena", {"ann": ["k:b", "k:c"]}, 2, 60.0) == {"ann": 1}
