"""`wait=true` across processes on Redis pub/sub: the rank-worker says what it applied, the
api's waiters are woken by it instead of asking the index over and over.

A rank-worker, once its batch is in the index (and its live changes published), publishes
on each board's channel one line a total: the user and the log position its total now
holds. An api process subscribes to a board's channel at its first waiter there, and stays
subscribed (a resubscribe would race with the next waiter). A waiter is registered, the
subscription confirmed, then the index asked once: an apply before the subscription is
seen in the index, one after it on the channel. Pub/sub drops what is published while a
connection is down; the waiters ask the index every `ask_every_s` for that case only.

Polling instead (`PollingVisibility`, 100 asks a second a waiter) fed on itself on a busy
machine: the longer answers took, the more waiters asked at once, and the api process
spent its CPU asking (docs/benchmarks.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import orjson

from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.index.base import RankIndex
from podium.plumbing import names
from podium.plumbing.pubsub import read_messages
from podium.visibility.local import LocalVisibility

log = logging.getLogger("podium.visibility.redis")

# Between the waiters' asks of the index: only for what a dropped pub/sub connection lost.
ASK_EVERY_S = 0.5
# A rank-worker does not wait for its publishes; past this many in flight it drops the
# newest (its waiters then learn from the index at their next ask).
MAX_PUBLISHES_IN_FLIGHT = 64


class RedisVisibility:
    def __init__(self, index: RankIndex, client: Any, *, ask_every_s: float = ASK_EVERY_S) -> None:
        self._index = index
        self._redis = client
        self._ask_every_s = ask_every_s
        self._local = LocalVisibility(index)
        self._listening: dict[str, asyncio.Event] = {}
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._publishing: set[asyncio.Task[None]] = set()

    async def wait(self, board: Board, user_id: str, position: LogPosition, timeout_s: float) -> bool:
        listening = self._listening.get(board.name)
        if listening is None or not listening.is_set():
            # Not confirmed soon (a connection being replaced): its first ask is at once.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._subscribed(board.name), min(timeout_s, self._ask_every_s))
        return await self._local.wait(board, user_id, position, timeout_s, ask_every_s=self._ask_every_s)

    def applied(self, totals: Sequence[Total]) -> None:
        """Wakes this process's waiters, and publishes for the other processes' ones."""
        self._local.applied(totals)
        if not totals or len(self._publishing) >= MAX_PUBLISHES_IN_FLIGHT:
            return
        reached: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
        for t in totals:
            reached[t.board].append((t.user_id, t.position.partition, t.position.offset))
        task = asyncio.get_running_loop().create_task(self._publish(reached))
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)

    async def close(self) -> None:
        for task in [*self._publishing, *([self._reader] if self._reader else [])]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            await self._redis.aclose()

    async def _publish(self, reached: dict[str, list[tuple[str, int, int]]]) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for board, users in reached.items():
                    pipe.publish(names.visibility_channel(board), orjson.dumps(users))
                await pipe.execute()
        except Exception as exc:  # the waiters ask the index: late, never wrong
            log.warning("visibility publish failed", extra={"error": str(exc)})

    async def _subscribed(self, board: str) -> None:
        """Returns once the server has confirmed the board's channel for this process."""
        event = self._listening.get(board)
        if event is None:
            # A task of its own: a waiter that stops waiting does not cut the subscribe short.
            event = self._listening[board] = asyncio.Event()
            task = asyncio.create_task(self._subscribe(board), name="visibility-subscribe")
            self._publishing.add(task)  # cancelled at close with the publishes
            task.add_done_callback(self._publishing.discard)
        await event.wait()

    async def _subscribe(self, board: str) -> None:
        try:
            if self._pubsub is None:
                self._pubsub = self._redis.pubsub()
            await self._pubsub.subscribe(names.visibility_channel(board))
        except Exception as exc:  # the next waiter tries again; these ones ask the index
            log.warning("visibility subscribe failed", extra={"board": board, "error": str(exc)})
            self._listening.pop(board, None)
            return
        if self._reader is None:
            self._reader = asyncio.create_task(self._read(), name="visibility-reader")

    async def _read(self) -> None:
        await read_messages(self._pubsub, self._dispatch, log=log, what="visibility")

    def _dispatch(self, message: dict[str, Any]) -> None:
        channel = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
        board = channel[len(names.VISIBILITY_PREFIX) + 2 : -1]
        if message["type"] == "subscribe":
            event = self._listening.get(board)
            if event is not None:
                event.set()
        elif message["type"] == "message":
            for user_id, partition, offset in orjson.loads(message["data"]):
                self._local.reached(board, user_id, LogPosition(partition, offset))
