"""periodic(): the one loop behind housekeeping, period expiry and the scheduled reconcile."""

from __future__ import annotations

import asyncio

from podium.plumbing.supervisor import periodic


async def test_runs_each_interval_not_at_the_start_and_stops_at_once() -> None:
    stop = asyncio.Event()
    runs: list[float] = []
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def step() -> None:
        runs.append(loop.time() - started)
        if len(runs) == 3:
            stop.set()

    await asyncio.wait_for(periodic(stop, 0.02, step), 5)
    assert len(runs) == 3
    assert runs[0] >= 0.015  # one interval after the start, not at it


async def test_a_step_may_ask_for_a_sooner_next_run() -> None:
    stop = asyncio.Event()
    runs = 0
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def step() -> float | None:
        nonlocal runs
        runs += 1
        if runs == 3:
            stop.set()
        return 0.01  # a retry: far sooner than the interval

    await asyncio.wait_for(periodic(stop, 0.3, step), 5)
    # One interval before the first run, then two short waits (three intervals would be 0.9 s).
    assert runs == 3
    assert 0.3 <= loop.time() - started < 0.75


async def test_stop_during_the_wait_ends_it_without_a_run() -> None:
    stop = asyncio.Event()
    runs = 0

    async def step() -> None:
        nonlocal runs
        runs += 1

    runner = asyncio.create_task(periodic(stop, 60.0, step))
    await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(runner, 1)
    assert runs == 0
