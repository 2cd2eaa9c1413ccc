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

if TYPE_CHECKING:
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
