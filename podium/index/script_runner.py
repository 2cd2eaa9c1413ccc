"""Run the index's read scripts on bare connections, past redis-py's client layer.

A read is one EVALSHA per shard. Through `redis.asyncio.Redis` each call also goes
through the pool's lock, its connection-health check, events and metrics hooks: about
20 µs of a ~75 µs script call here, more with the blocking pool (40 µs), which is a
large share of a read that the plain ZREVRANK it is judged against does not pay twice.
So reads keep a free list of connections made like the client's own (same address, same
settings), and send one command on one of them. Writes keep the client.

The connections have no socket timeout of their own: with one, redis-py sends each command
through `asyncio.wait_for`, a task per command (about 15 µs here); one `asyncio.timeout`
around the command and its reply bounds both instead.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import TYPE_CHECKING, Any

from podium.errors import BackendUnavailable
from podium.index.resp import ScriptCall

if TYPE_CHECKING:
    from collections.abc import Sequence

    import redis.asyncio as aioredis
    from redis.asyncio.connection import AbstractConnection


DEFAULT_TIMEOUT_S = 5.0  # redis-py's own socket timeout


class ScriptRunner:
    """EVALSHA on one shard, loading the script if the server does not know it."""

    def __init__(self, client: aioredis.Redis, max_connections: int) -> None:
        pool = client.connection_pool
        self._make = pool.connection_class
        self._settings = {**pool.connection_kwargs, "socket_timeout": None}
        self._timeout_s = pool.connection_kwargs.get("socket_timeout") or DEFAULT_TIMEOUT_S
        self._free: list[AbstractConnection] = []
        self._slots = asyncio.Semaphore(max_connections)  # a burst waits, as the blocking pool does
        self._made: set[AbstractConnection] = set()

    async def run(self, source: str, sha: str, keys: list[str], args: list[Any]) -> Any:
        import redis.exceptions

        try:
            return await self._exchange([("EVALSHA", sha, len(keys), *keys, *args)])
        except redis.exceptions.NoScriptError:
            # The server restarted or its scripts were flushed: EVAL loads it again.
            return await self._exchange([("EVAL", source, len(keys), *keys, *args)])

    async def transaction(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        """The commands' replies, run as one MULTI … EXEC in one round trip: for a read that
        needs no script (a script copies a long reply through Lua tables, ~30 µs a page)."""
        replies: list[Any] = await self._exchange([("MULTI",), *commands, ("EXEC",)])
        return replies

    async def _exchange(self, commands: list[tuple[Any, ...]]) -> Any:
        """Send the commands at once and read every reply; the last one."""
        import redis.exceptions

        async with self._slots:
            conn = self._free.pop() if self._free else self._connection()
            failed: redis.exceptions.ResponseError | None = None
            try:
                async with asyncio.timeout(self._timeout_s):
                    if not conn.is_connected:
                        # `connect`, as the pool does: a Sentinel-managed connection finds its
                        # primary there (sending would connect to the default address).
                        await conn.connect()  # type: ignore[no-untyped-call]
                    await conn.send_packed_command(conn.pack_commands(commands), check_health=False)
                    for _ in commands:
                        try:
                            reply = await conn.read_response()
                        except redis.exceptions.ResponseError as exc:  # read whole: read on
                            failed = failed or exc
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, TimeoutError, OSError) as exc:
                await self._drop(conn)
                raise BackendUnavailable(f"redis: {exc}") from exc
            except BaseException:  # cancelled mid-reply: the connection's state is unknown
                await self._drop(conn)
                raise
            self._free.append(conn)
            if failed is not None:
                raise failed
            return reply

    async def call(self, call: ScriptCall) -> Any:
        """A script call packed ahead (`resp`); its reply."""
        [reply] = await run_each([(self, call)])
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def _connection(self) -> AbstractConnection:
        conn: AbstractConnection = self._make(**self._settings)
        self._made.add(conn)
        return conn

    async def _drop(self, conn: AbstractConnection) -> None:
        self._made.discard(conn)
        await conn.disconnect()

    async def close(self) -> None:
        self._free.clear()
        made, self._made = self._made, set()
        for conn in made:
            await conn.disconnect()


def sha1(source: str) -> str:
    return hashlib.sha1(source.encode()).hexdigest()


async def run_each(calls: Sequence[tuple[ScriptRunner, ScriptCall]]) -> list[Any]:
    """Script calls on several shards at once: every command is sent before any reply is
    read, a shard's calls in one write on one connection; no task per call (`gather`'s cost
    a call is that of packing it). Each call's reply, or the script error it raised; a
    connection's failure raises for all. A script the server lost is sent again by source."""
    if not calls:
        return []
    replies: list[Any] = [None] * len(calls)
    by_runner: dict[int, tuple[ScriptRunner, list[int]]] = {}
    for i, (runner, _) in enumerate(calls):
        by_runner.setdefault(id(runner), (runner, []))[1].append(i)
    lost = await _exchange_each(calls, list(by_runner.values()), replies, by_source=False)
    if lost:  # the server restarted or its scripts were flushed: EVAL loads them again
        again = {id(calls[i][0]): (calls[i][0], [j for j in lost if calls[j][0] is calls[i][0]]) for i in lost}
        await _exchange_each(calls, list(again.values()), replies, by_source=True)
    return replies


async def _exchange_each(
    calls: Sequence[tuple[ScriptRunner, ScriptCall]],
    groups: list[tuple[ScriptRunner, list[int]]],
    replies: list[Any],
    *,
    by_source: bool,
) -> list[int]:
    """Send each group's calls on a connection of its runner, then read them all into
    `replies`; the calls whose script the server did not have."""
    import redis.exceptions

    taken: list[tuple[ScriptRunner, AbstractConnection, list[int]]] = []
    lost: list[int] = []
    try:
        for runner, which in groups:
            await runner._slots.acquire()
            conn = runner._free.pop() if runner._free else runner._connection()
            taken.append((runner, conn, which))
        async with asyncio.timeout(max(r._timeout_s for r, _, _ in taken)):
            for _, conn, which in taken:
                if not conn.is_connected:
                    await conn.connect()  # type: ignore[no-untyped-call]
                packed = b"".join(calls[i][1].command(by_source=by_source) for i in which)
                await conn.send_packed_command(packed, check_health=False)
            for _, conn, which in taken:
                for i in which:
                    try:
                        replies[i] = await conn.read_response()
                    except redis.exceptions.NoScriptError:
                        lost.append(i)
                    except redis.exceptions.ResponseError as exc:  # read whole: read on
                        replies[i] = exc
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, TimeoutError, OSError) as exc:
        for runner, conn, _ in taken:
            await runner._drop(conn)
            runner._slots.release()
        raise BackendUnavailable(f"redis: {exc}") from exc
    except BaseException:  # cancelled mid-reply: the connections' state is unknown
        for runner, conn, _ in taken:
            await runner._drop(conn)
            runner._slots.release()
        raise
    for runner, conn, _ in taken:
        runner._free.append(conn)
        runner._slots.release()
    return lost
