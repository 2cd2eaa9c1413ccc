"""The consumer's own thread (podium/log/own_thread.py): calls in order, a caller that stops
waiting for a stuck call, and a thread that never keeps the process alive."""

import asyncio
import threading

import pytest

from podium.log.own_thread import OwnThread


async def test_calls_run_in_order_on_one_thread_and_errors_reach_the_caller() -> None:
    thread = OwnThread("t")
    names: list[str] = []
    results = await asyncio.gather(
        *(thread.run(lambda i=i: (names.append(threading.current_thread().name), i)[1]) for i in range(20))
    )
    assert results == list(range(20))
    assert set(names) == {"t"}

    def fails() -> None:
        raise ValueError("from the thread")

    with pytest.raises(ValueError, match="from the thread"):
        await thread.run(fails)
    assert await thread.run(lambda: "after") == "after"  # an error does not end the thread
    thread.then_stop()
    thread.join(2)


async def test_a_stuck_call_can_be_left_and_what_follows_runs_when_it_ends() -> None:
    thread = OwnThread("t")
    release, closed = threading.Event(), threading.Event()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(thread.run(release.wait), 0.2)
    thread.then_stop(closed.set)  # the stuck consumer's close, queued behind the stuck call
    await asyncio.sleep(0.1)
    assert not closed.is_set()
    release.set()  # the stuck call returns at last: its result goes nowhere, the close runs
    assert await asyncio.to_thread(closed.wait, 2)
    thread.join(2)


def test_the_thread_is_a_daemon() -> None:
    thread = OwnThread("t")
    assert thread._thread.daemon
    thread._jobs.put(None)
    thread.join(2)
