"""The reading loop of a Redis pub/sub connection, shared by the live hub and `wait=true`'s
visibility: each message to `dispatch`, until the task is asked to stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from podium.plumbing.stopping import stop_requested


async def read_messages(
    pubsub: Any, dispatch: Callable[[dict[str, Any]], None], *, log: logging.Logger, what: str
) -> None:
    # `stop_requested`, not only the cancel: close() awaits this task after cancelling it, and
    # redis-py's reads can swallow a cancel (plumbing.stopping).
    while not stop_requested():
        try:
            message = await pubsub.get_message(timeout=1.0)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a dropped connection: redis-py resubscribes on the next read
            log.warning(f"{what} pub/sub read failed", extra={"error": str(exc)})
            await asyncio.sleep(0.5)
            continue
        if message is None:
            if not pubsub.subscribed:  # nothing to wait on: no read would wait for its timeout
                await asyncio.sleep(0.05)
            continue
        dispatch(message)
