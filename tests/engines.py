"""Real engines the tests start for themselves: the bench's Redis servers (one starter
for both, podium/tools/bench/redis_servers.py)."""

from collections.abc import Iterator
from pathlib import Path

from podium.tools.bench.redis_servers import RedisServer, start_redis, wait_replica_in_sync

__all__ = ["RedisServer", "private_redis", "start_redis", "wait_replica_in_sync"]


def private_redis(base: Path) -> Iterator[str]:
    """A fixture's body: a redis-server of its own under `base`, its URL yielded, stopped after."""
    server = start_redis(base)
    try:
        yield server.url
    finally:
        server.stop()
