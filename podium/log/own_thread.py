"""One daemon thread that runs a Kafka consumer's blocking calls in order.

A librdkafka consumer must be used from one thread at a time, so its calls leave the event
loop for a thread of their own. Not a `ThreadPoolExecutor`: its threads are joined when the
interpreter exits, and a call that never returns (a synchronous commit or a close whose
request sits in a coordinator connection that never comes up again, seen after a broker
restart) would then hang the worker's exit as well as its work. The caller gives each call a
deadline; past it, the consumer and this thread are abandoned (`KafkaLogConsumer`), and a
daemon thread stuck in C code does not keep the process alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the caller stopped waiting (its deadline passed, or it was cancelled)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class OwnThread:
    def __init__(self, name: str) -> None:
        # A job, and where its result goes (none for the last call `then_stop` queues).
        self._jobs: queue.SimpleQueue[
            tuple[Callable[[], Any], tuple[asyncio.Future[Any], asyncio.AbstractEventLoop] | None] | None
        ]
        self._jobs = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            fn, caller = job
            result, error = None, None
            try:
                result = fn()
            except BaseException as exc:
                error = exc
            if caller is None:
                continue  # a left-behind consumer's last call: nobody waits for it
            future, loop = caller
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
                loop.call_soon_threadsafe(_settle, future, result, error)

    def run(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        """`fn`'s result, once this thread has run it after the calls before it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((fn, (future, loop)))
        return future

    def then_stop(self, last: Callable[[], Any] | None = None) -> None:
        """Run `last` after the calls queued so far (if ever they return), then end."""
        if last is not None:
            self._jobs.put((last, None))
        self._jobs.put(None)

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)
