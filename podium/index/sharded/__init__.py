"""The sharded rank index: a board cut into score buckets over several Redis shards.

Each board has a home shard (recorded in a directory on the first shard when the
board is first written, so adding shards never moves it) holding its bucket map
(`domain.buckets.BucketMap`, JSON), every user's newest total and version, the
writers' leases and the board's lock. Each bucket is a sorted set on the shard the
map places it on, in the single-set index's encoding (`index.redis`): score =
±total, member = reached_at + user, so members sort in rank order.

The map cuts the board into segments, each a key range read from one sorted set
(a bucket in transit has two: the part still in the set it came from, and its
own). A segment's members are those of its set *within its range*: counts are
read from the sorted sets themselves, by range, never kept apart. So a count can
never drift from the members, and whatever a move or a crash leaves outside a
range is simply not counted.

Reads cost a fixed number of round trips however many buckets there are (rank and page:
`read_steps`, with the map and the counts a reader keeps between reads):
  rank  = the home shard (user, map check, its own sets), then the user's segment's
          shard, or, when the kept counts are not good, every other shard in parallel
  page  = the home shard (map check), the other shards' counts if needed, the slices
A read whose map is older than the last members the mover took out of a set it
counts (the set's trim mark) reads again with the new map.

Writes (the rank-worker), per batch:
  1. begin, on the home shard: unless the board is locked, take a lease and read
     the users' versions and the map (its epoch is the writer's fence);
  2. move the members, one script per shard, refused if a set's fence is newer
     than the writer's map (the mover has started on it);
  3. commit, on the home shard: if the lease is still held and the map unchanged,
     store each total whose version is still the one read.
Every step is idempotent; any refusal retries the batch from step 1.

Resharding is lazy (design notes §6.2). A bucket over the member or write-rate
threshold of `SplitPolicy` is split by one map change: the new bucket, placed on
the least-loaded shard, starts in transit from the old bucket's set. A
background mover then carries its members over, a batch at a time from the top
of its range down: under the board's lock (once the writers' leases drain) it
raises the two sets' fences, copies the batch, lowers the transit's cursor in
the map, then removes the batch from the old set and raises that set's trim
mark. Writes go on between batches, to whichever set the map gives their key,
and reads are exact at every step. Moving a whole bucket to another shard (a
new shard taking its share) is the same transit.

The package, one job a module (the index is their methods together):
  directory   the shards, their scripts and connections, each board's home and map,
              counts by segment
  writer      the rank-worker's batches: one script for a board of one settled bucket,
              else begin, move, commit
  mover       splits, moves and the board's lock
  repair      the reconciler's repair of some users, under the lock
  reads       rank, entries, page, counts; each attempt's script calls in `read_steps`
  scripts     the Lua, from `lua/*.lua`, read when the index is built
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from podium.domain.boards import Board
from podium.index.redis import call, key_from_member
from podium.index.sharded.directory import POOL_SIZE, SOCKET_TIMEOUT_S
from podium.index.sharded.read_steps import Trimmed, bound
from podium.index.sharded.repair import Repair
from podium.index.sharded.writer import StaleMap, Writer
from podium.plumbing import names

if TYPE_CHECKING:
    import redis.asyncio as aioredis

__all__ = ["POOL_SIZE", "ShardedRedisRankIndex", "StaleMap", "Trimmed", "bound", "key_from_member"]


class ShardedRedisRankIndex(Writer, Repair):
    """The rank index over several Redis shards: the writer, the mover, the repair and the
    reads over one directory (each a module of this package)."""

    @classmethod
    def from_urls(
        cls, urls: Sequence[str], *, auth: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> ShardedRedisRankIndex:
        """`auth`: the username and password for every shard (a URL's own credentials win)."""
        import redis.asyncio as aioredis  # the driver is needed only by this profile

        # A blocking pool: a burst of reads waits for a connection instead of failing with
        # "Too many connections" once the pool's size is reached. A socket timeout as the
        # Sentinel clients have (bootstrap.py): a shard that stops answering without closing
        # its connections (a paused VM, a dropped route) fails a call after 5 s, as
        # BackendUnavailable, instead of holding it, and every caller behind it, for ever.
        # A URL's own socket_timeout wins.
        pools = [
            aioredis.BlockingConnectionPool.from_url(
                u,
                max_connections=POOL_SIZE,
                timeout=20,
                socket_timeout=SOCKET_TIMEOUT_S,
                socket_connect_timeout=SOCKET_TIMEOUT_S,
                **(auth or {}),
            )
            for u in urls
        ]
        return cls([aioredis.Redis(connection_pool=p) for p in pools], **kwargs)

    async def drop(self, board: Board) -> None:
        """Delete every key of the board on every shard (UNLINK: Redis frees big sets in the
        background) and its home; its mover, if running here, stops first."""
        # Until none is left: a mover ending its batch after the cancel may have started
        # another (a split its batch called for).
        while (mover := self._movers.pop(board.name, None)) is not None:
            mover.cancel()
            await asyncio.gather(mover, return_exceptions=True)
        pattern = names.board_keys_pattern(board.name)
        for shard in self._shards:
            await call(lambda: _unlink_matching(shard, pattern))  # noqa: B023 (awaited at once)
        await call(lambda: self._shards[0].hdel(names.homes_key(), board.name))
        self._homes.pop(board.name, None)
        self._written_maps.pop(board.name, None)
        self._counted.pop(board.name, None)
        self._maps.forget(board.name)

    async def close(self) -> None:
        for task in self._movers.values():
            task.cancel()
        await asyncio.gather(*self._movers.values(), return_exceptions=True)
        self._movers.clear()
        for shard, runner in zip(self._shards, self._runners, strict=True):
            await runner.close()
            await shard.aclose()


async def _unlink_matching(client: aioredis.Redis, pattern: str) -> None:
    keys = [key async for key in client.scan_iter(match=pattern, count=1000)]
    for i in range(0, len(keys), 1000):
        await client.unlink(*keys[i : i + 1000])
