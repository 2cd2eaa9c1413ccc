"""The reads' bare connections (`index.script_runner`) reach the server their client does."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import redis.asyncio as aioredis
import redis.exceptions
from redis.asyncio.connection import Connection

from podium.index.resp import ScriptCall, pack
from podium.index.script_runner import ScriptRunner, run_each, sha1


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


def call_of(source: str, keys: list[str], args: list[str | int | bytes]) -> ScriptCall:
    return ScriptCall(sha1(source), source, pack([len(keys), *keys, *args]))


ECHO = "return {KEYS[1], ARGV[1], ARGV[2]}"


async def test_calls_packed_ahead_run_on_each_shard_and_reload_a_lost_script(redis_pair: tuple[str, str]) -> None:
    clients = [aioredis.Redis.from_url(url) for url in redis_pair]
    runners = [ScriptRunner(c, 4) for c in clients]
    failing = "return redis.error_reply('no such thing')"
    try:
        for client in clients:
            await client.script_flush()  # the first calls go by SHA1 to servers that lack the script
        got = await run_each(
            [
                (runners[0], call_of(ECHO, ["k"], ["é", 7])),
                (runners[1], call_of(ECHO, ["k2"], [b"raw", -1])),
                (runners[0], call_of(failing, [], [])),
                (runners[0], call_of(ECHO, ["k3"], ["", 0])),
            ]
        )
        assert got[0] == [b"k", "é".encode(), b"7"]
        assert got[1] == [b"k2", b"raw", b"-1"]
        assert isinstance(got[2], redis.exceptions.ResponseError) and "no such thing" in str(got[2])
        assert got[3] == [b"k3", b"", b"0"]
        assert await runners[1].call(call_of(ECHO, ["x"], ["y", "z"])) == [b"x", b"y", b"z"]
        assert await run_each([]) == []
    finally:
        for runner, client in zip(runners, clients, strict=True):
            await runner.close()
            await client.aclose()


def test_packed_items_are_what_redis_py_sends() -> None:
    items: list[str | int | bytes] = ["EVALSHA", "a" * 40, 2, "key:{board}", "ключ", b"\x00\xff", 0, -12, ""]
    ours = b"*%d\r\n%s" % (len(items), pack(items).data)
    theirs = b"".join(Connection().pack_command(*items))
    assert ours == theirs
