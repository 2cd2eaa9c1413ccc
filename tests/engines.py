"""Real engines the tests start for themselves: the bench's Redis servers (one starter
for both, podium/bench/redis_servers.py)."""

from podium.bench.redis_servers import RedisServer, start_redis, wait_replica_in_sync

__all__ = ["RedisServer", "start_redis", "wait_replica_in_sync"]
