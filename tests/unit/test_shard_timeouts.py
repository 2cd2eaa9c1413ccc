"""A shard that accepts connections and never answers fails a read as BackendUnavailable
(a 503 at the API) instead of holding it for ever: the index made from plain shard URLs
has the socket timeout the Sentinel clients have."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from podium.domain.boards import Board
from podium.errors import BackendUnavailable
from podium.index.sharded import ShardedRedisRankIndex
from podium.index.sharded.directory import SOCKET_TIMEOUT_S


@pytest.fixture
async def silent_shard() -> AsyncIterator[str]:
    """A TCP server on loopback that takes connections and reads, and never writes back."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        while await reader.read(4096):
            pass

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"redis://127.0.0.1:{port}/0"
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_plain_shard_urls_get_the_socket_timeout(silent_shard: str) -> None:
    index = ShardedRedisRankIndex.from_urls([silent_shard])
    kwargs = index._shards[0].connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == SOCKET_TIMEOUT_S
    assert kwargs["socket_connect_timeout"] == SOCKET_TIMEOUT_S
    await index.close()


async def test_a_silent_shard_fails_a_read_instead_of_holding_it(silent_shard: str) -> None:
    # The URL's own timeout wins over the default, which keeps this test short.
    index = ShardedRedisRankIndex.from_urls([f"{silent_shard}?socket_timeout=0.3&socket_connect_timeout=0.3"])
    began = time.monotonic()
    with pytest.raises(BackendUnavailable):
        await asyncio.wait_for(index.count(Board("arena")), timeout=30)
    assert time.monotonic() - began < 10
    await index.close()
