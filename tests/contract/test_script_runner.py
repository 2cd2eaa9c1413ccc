"""The reads' bare connections (`index.script_runner`) reach the server their client does."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import redis.asyncio as aioredis
from redis.asyncio.connection import Connection

from podium.index.script_runner import ScriptRunner, sha1


class FoundOnConnect(Connection):
    """Like a Sentinel-managed connection: the address is found in `connect`, and the
    settings name another (the default's) that must not be used."""

    real_port = 0

    async def connect(self) -> None:  # type: ignore[override]
        self.host, self.port = "127.0.0.1", self.real_port
        await super().connect()


async def test_a_runner_connects_as_its_clients_pool_does(redis_pair: tuple[str, str]) -> None:
    url = redis_pair[0]
    FoundOnConnect.real_port = int(urlparse(url).port or 0)
    pool = aioredis.ConnectionPool(connection_class=FoundOnConnect, host="127.0.0.1", port=1)
    client = aioredis.Redis(connection_pool=pool)
    runner = ScriptRunner(client, 4)
    script = "return redis.call('PING')"
    try:
        got: Any = await runner.run(script, sha1(script), [], [])
        assert got in (b"PONG", "PONG")
    finally:
        await runner.close()
        await client.aclose()
