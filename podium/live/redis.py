"""The live hub on Redis pub/sub, for several api processes behind a load balancer.

A publish is one Lua script: it takes the board's next sequence numbers (INCRBY), appends
the numbered changes to the board's history list (trimmed to its size) and PUBLISHes them,
so numbers are gap-free and the same for every process, whichever rank-worker published.
Each api process holds one pub/sub connection, subscribed to the channels of the boards its
clients watch. Pub/sub drops messages while a connection is down: a subscriber that sees
a gap in the numbers fills it from the history (`since`), see podium/usecases/live_session.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from podium.errors import BackendUnavailable
from podium.live.base import Applied, Change, Subscription, after
from podium.plumbing import names
from podium.plumbing.pubsub import read_messages

log = logging.getLogger("podium.live.redis")

# ARGV: history size, then the changes as JSON objects without their opening brace (the
# number goes first), one a line: one argument, as packing one per change cost the
# rank-worker more than the script. JSON text holds no raw newline.
PUBLISH = """
local changes = {}
for change in string.gmatch(ARGV[2], '[^\\n]+') do changes[#changes + 1] = change end
local n = #changes
local last = redis.call('INCRBY', KEYS[1], n)
local out = {}
for i = 1, n do out[i] = '{"seq":' .. string.format('%d', last - n + i) .. ',' .. changes[i] end
-- Only what the trimmed history keeps, a bounded number at a time (Lua's stack is limited).
local keep = tonumber(ARGV[1])
for first = math.max(1, n - keep + 1), n, 500 do
  redis.call('RPUSH', KEYS[2], unpack(out, first, math.min(first + 499, n)))
end
redis.call('LTRIM', KEYS[2], -keep, -1)
redis.call('PUBLISH', KEYS[3], '[' .. table.concat(out, ',') .. ']')
return last
"""


class RedisLiveHub:
    def __init__(self, client: Any, *, history: int = 1000) -> None:
        self._redis = client
        self._history_size = history
        self._publish = client.register_script(PUBLISH)
        self._subs: dict[str, set[Subscription]] = defaultdict(set)
        self._last_seen: dict[str, int] = {}  # board → the last number its channel delivered
        self._pubsub: Any = None
        self._listening: dict[str, asyncio.Event] = {}
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    def from_url(cls, url: str, *, history: int = 1000, auth: Mapping[str, Any] | None = None) -> RedisLiveHub:
        import redis.asyncio as aioredis

        return cls(aioredis.Redis.from_url(url, **(auth or {})), history=history)

    async def publish(self, board: str, applied: Sequence[Applied]) -> list[Change]:
        if not applied:
            return []
        args = [self._history_size, b"\n".join(orjson.dumps(_applied_json(a))[1:] for a in applied)]
        keys = [names.live_seq_key(board), names.live_history_key(board), names.live_channel(board)]
        last = int(await _translate(self._publish(keys=keys, args=args)))
        first = last - len(applied) + 1
        return [Change(first + i, a.user_id, a.score, a.rank, a.version, a.hidden) for i, a in enumerate(applied)]

    async def subscribe(self, board: str) -> Subscription:
        sub = Subscription(board, self._history_size)
        self._subs[board].add(sub)
        if board not in self._listening:
            self._listening[board] = asyncio.Event()
            if self._pubsub is None:
                self._pubsub = self._redis.pubsub()
            # Subscribed before the reader starts: a reader with no channel yet would sleep.
            await _translate(self._pubsub.subscribe(names.live_channel(board)))
            if self._reader is None:
                self._reader = asyncio.create_task(self._read(), name="live-hub-reader")
        # On return the server has confirmed the subscription: nothing published after the
        # caller reads `last_seq` can be missed.
        await asyncio.wait_for(self._listening[board].wait(), 5.0)
        return sub

    def unsubscribe(self, subscription: Subscription) -> None:
        subs = self._subs.get(subscription.board)
        if subs is not None:
            subs.discard(subscription)
        # The channel stays subscribed: boards that were watched are few, and a
        # resubscribe would race with a new subscriber of the same board.

    async def last_seq(self, board: str) -> int:
        value = await _translate(self._redis.get(names.live_seq_key(board)))
        return int(value) if value is not None else 0

    async def since(self, board: str, seq: int) -> list[Change] | None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(names.live_seq_key(board))
            pipe.lrange(names.live_history_key(board), 0, -1)
            last, raw = await _translate(pipe.execute())
        history = [Change.from_json(json.loads(item)) for item in raw]
        return after(history, int(last) if last is not None else 0, seq)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        await self._redis.aclose()

    async def _read(self) -> None:
        await read_messages(self._pubsub, self._dispatch, log=log, what="live hub")

    def _dispatch(self, message: dict[str, Any]) -> None:
        channel = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
        board = channel[len(names.LIVE_PREFIX) + 2 : -len("}:changes")]
        if message["type"] == "subscribe":
            event = self._listening.get(board)
            if event is not None:
                event.set()
        elif message["type"] == "message":
            changes = [Change.from_json(item) for item in json.loads(message["data"])]
            if not changes:
                return
            # One channel delivers one board's numbers in order, each once: a number not
            # above the last one seen means the numbering started again (a loss of the
            # hub's data). A subscriber would otherwise drop every change as already seen
            # until the new numbers passed its old ones: it gets a fresh snapshot instead.
            restarted = changes[0].seq <= self._last_seen.get(board, 0)
            self._last_seen[board] = changes[-1].seq
            for sub in list(self._subs.get(board, ())):
                if restarted:
                    sub.restart()
                else:
                    sub.deliver(changes)


def _applied_json(a: Applied) -> dict[str, Any]:
    body: dict[str, Any] = {"user_id": a.user_id, "score": a.score, "rank": a.rank, "version": a.version}
    if a.hidden:  # only then: the history of a board with no ban is as it was
        body["hidden"] = True
    return body


async def _translate(awaitable: Any) -> Any:
    import redis.exceptions

    try:
        return await awaitable
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        raise BackendUnavailable(f"redis (live hub): {exc}") from exc
