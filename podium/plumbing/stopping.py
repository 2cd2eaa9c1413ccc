"""Whether the running task was asked to stop, for loops that run until cancelled.

Python 3.11's `asyncio.wait_for` can swallow a cancel that lands just as the call it waits
for finishes (cpython gh-86296, fixed in 3.12), and redis-py sends every command through
`wait_for` when a socket timeout is set. A loop that only waits for the CancelledError
can then go on as if never asked: a deleted board's bucket mover carried the board on to
its end while the delete waited for it (once past its client's 60 s). `Task.cancelling()`
still counts the swallowed request, so such a loop checks it at each turn."""

from __future__ import annotations

import asyncio


def stop_requested() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
