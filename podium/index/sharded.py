"""The sharded rank index: a board cut into score buckets over several Redis shards.

Each board has a home shard (by a hash of its name) holding its bucket map
(`domain.buckets.BucketMap`, JSON), each bucket's member count, every user's
newest total and version, the writers' leases and the split lock. Each bucket
is a sorted set on the shard the map places it on, in the same encoding as the
single-set index (`index.redis`): score = ±total, member = reached_at + user.

Reads cost a fixed number of round trips however many buckets there are:
  rank  = 1 round trip to the home shard (user, map, counts) + 1 ZRANK on the bucket's shard
  page  = 1 to the home shard + the slices' ZRANGEs, in parallel on their shards

Writes (the rank-worker) go in three steps per batch:
  1. begin: on the home shard, atomically, unless a split is under way: take a
     lease and read the users' current versions and the map;
  2. move the members in their buckets' sorted sets (ZREM the old, ZADD the new);
  3. commit: on the home shard, atomically: drop the lease and, for each user
     whose version is still the one read, store the new total and move the
     counts. A crash between 2 and 3 leaves the version unchanged, so the
     redelivered batch redoes 2 (idempotent) and 3.

A split (a bucket over `SplitPolicy`'s member or write-rate threshold) takes the
board's split lock, waits for the writers' leases to drain, copies the upper
half of the bucket to a new bucket on the least-loaded shard, then swaps the map
and counts in one step, then trims the old bucket. Reads are exact throughout:
before the swap the old map is whole; after it, the old bucket's extra tail lies
beyond its count, where no read looks.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import zlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from podium import names
from podium.domain.boards import Board
from podium.domain.buckets import Bucket, BucketMap, SplitPolicy, least_loaded
from podium.domain.ordering import SortKey, sort_key
from podium.domain.totals import LogPosition, Total
from podium.errors import BackendUnavailable
from podium.index.base import BucketInfo, Entry
from podium.index.redis import member, parse_state, state, user_of, zscore

if TYPE_CHECKING:
    import redis.asyncio as aioredis

log = logging.getLogger("podium.index.sharded")
T = TypeVar("T")

# KEYS: split lock, writers, users, map. ARGV: writer id, lease ms, users...
BEGIN = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
redis.call('ZADD', KEYS[2], now_ms + tonumber(ARGV[2]), ARGV[1])
local states = {}
for i = 3, #ARGV do states[#states + 1] = redis.call('HGET', KEYS[3], ARGV[i]) or '' end
return {redis.call('GET', KEYS[4]) or '', states}
"""

# KEYS: writers, users, counts, writes. ARGV: writer id, then per user 5 values:
# user, expected version (-1: none), new state, old bucket ('' none), new bucket ('' none).
COMMIT = """
local lease = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
if not lease then return -1 end
local applied = 0
for i = 2, #ARGV, 5 do
  local current = redis.call('HGET', KEYS[2], ARGV[i])
  local version = -1
  if current then version = tonumber(string.match(current, '^(%d+)|')) end
  if version == tonumber(ARGV[i + 1]) then
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
    if ARGV[i + 3] ~= '' then redis.call('HINCRBY', KEYS[3], ARGV[i + 3], -1) end
    if ARGV[i + 4] ~= '' then
      redis.call('HINCRBY', KEYS[3], ARGV[i + 4], 1)
      redis.call('HINCRBY', KEYS[4], ARGV[i + 4], 1)
    end
    applied = applied + 1
  end
end
redis.call('EXPIRE', KEYS[4], 60)
return applied
"""

# KEYS: writers. Returns how many leases are still live (expired ones are dropped).
LIVE_LEASES = """
local now = redis.call('TIME')
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now[1] * 1000 + math.floor(now[2] / 1000))
return redis.call('ZCARD', KEYS[1])
"""


def key_of(board: Board, t: Total) -> SortKey:
    return sort_key(board.order, t.total, t.reached_at_us, t.user_id)


def key_from_member(score: float, raw: bytes | str) -> SortKey:
    text = raw.decode() if isinstance(raw, bytes) else raw
    return (int(score), int(text[:16], 16), text[17:])


def member_of_key(key: SortKey) -> str:
    return f"{key[1]:016x}:{key[2]}"


class ShardedRedisRankIndex:
    def __init__(
        self,
        shards: Sequence[aioredis.Redis],
        *,
        policy: SplitPolicy | None = None,
        wait_replicas: int = 0,
        wait_timeout_ms: int = 1000,
        lease_ms: int = 10_000,
    ) -> None:
        if not shards:
            raise ValueError("the sharded rank index needs at least one shard")
        self._shards = list(shards)
        self.policy = policy or SplitPolicy()
        self._wait_replicas = wait_replicas
        self._wait_timeout_ms = wait_timeout_ms
        self._lease_ms = lease_ms
        self._writer_id = uuid.uuid4().hex
        home = self._shards
        self._begin = [s.register_script(BEGIN) for s in home]
        self._commit = [s.register_script(COMMIT) for s in home]
        self._live_leases = [s.register_script(LIVE_LEASES) for s in home]

    @classmethod
    def from_urls(cls, urls: Sequence[str], **kwargs: Any) -> ShardedRedisRankIndex:
        import redis.asyncio as aioredis  # the driver is needed only by this profile

        return cls([aioredis.Redis.from_url(u) for u in urls], **kwargs)

    # -- plumbing ---------------------------------------------------------------------------

    def home(self, board: str) -> int:
        return zlib.crc32(board.encode()) % len(self._shards)

    async def _call(self, op: Callable[[], Awaitable[T]]) -> T:
        import redis.exceptions

        try:
            return await op()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise BackendUnavailable(f"redis: {exc}") from exc

    async def _map_and_counts(self, board: str) -> tuple[BucketMap | None, dict[int, int]]:
        shard = self._shards[self.home(board)]

        async def read() -> list[Any]:
            async with shard.pipeline(transaction=True) as pipe:
                pipe.get(names.bucket_map_key(board))
                pipe.hgetall(names.bucket_counts_key(board))
                result: list[Any] = await pipe.execute()
                return result

        raw_map, raw_counts = await self._call(read)
        return _decode_map(raw_map), {int(k): int(v) for k, v in raw_counts.items()}

    # -- writes -----------------------------------------------------------------------------

    async def apply(self, board: Board, totals: Sequence[Total]) -> list[Total]:
        newest: dict[str, Total] = {}
        for t in totals:
            if t.user_id not in newest or t.version > newest[t.user_id].version:
                newest[t.user_id] = t
        if not newest:
            return []
        for attempt in range(200):
            applied = await self._apply_once(board, list(newest.values()))
            if applied is not None:
                await self._maybe_split(board, applied)
                return applied
            await asyncio.sleep(min(0.001 * 2**attempt, 0.05))  # a split holds the board: wait
        raise BackendUnavailable(f"redis: board {board.name!r} stayed locked by a split")

    async def _apply_once(self, board: Board, totals: list[Total]) -> list[Total] | None:
        home = self.home(board.name)
        keys = [
            names.split_lock_key(board.name),
            names.writers_key(board.name),
            names.users_key(board.name),
            names.bucket_map_key(board.name),
        ]
        args: list[str | int] = [self._writer_id, self._lease_ms, *(t.user_id for t in totals)]
        begun = await self._call(lambda: self._begin[home](keys=keys, args=args))
        if begun is None:
            return None  # a split is under way
        map_ = _decode_map(begun[0])
        if map_ is None:
            await self._create_map(board.name)
            await self._call(lambda: self._shards[home].zrem(names.writers_key(board.name), self._writer_id))
            return None
        moves: dict[int, list[tuple[str, str, Any]]] = defaultdict(list)  # shard → (op, key, args)
        commit_args: list[str | int] = [self._writer_id]
        applied: list[Total] = []
        for t, raw in zip(totals, begun[1], strict=True):
            current = parse_state(raw) if raw else None
            if current is not None and current[0] >= t.version:
                continue  # not newer: a duplicate or a reordered change
            old_bucket: Bucket | None = None
            if current is not None and not current[1]:
                _, _, old_member, old_total, _ = current
                old_key = key_from_member(zscore(board.order, old_total), old_member)
                old_bucket = map_.locate(old_key)
                moves[old_bucket.shard].append(("zrem", names.bucket_key(board.name, old_bucket.id), old_member))
            new_bucket: Bucket | None = None
            if not t.removed:
                new_bucket = map_.locate(key_of(board, t))
                moves[new_bucket.shard].append(
                    ("zadd", names.bucket_key(board.name, new_bucket.id), (member(t), zscore(board.order, t.total)))
                )
            commit_args += [
                t.user_id,
                current[0] if current is not None else -1,
                state(t),
                str(old_bucket.id) if old_bucket is not None else "",
                str(new_bucket.id) if new_bucket is not None else "",
            ]
            applied.append(t)
        await asyncio.gather(*(self._move(shard, ops) for shard, ops in moves.items()))
        second = int(time.time())
        commit_keys = [
            names.writers_key(board.name),
            names.users_key(board.name),
            names.bucket_counts_key(board.name),
            names.bucket_writes_key(board.name, second),
        ]
        done = await self._call(lambda: self._commit[home](keys=commit_keys, args=commit_args))
        if done == -1:
            log.warning("writer lease expired before commit; retrying the batch", extra={"board": board.name})
            return None
        await self._wait_for_replicas({home, *moves})
        return applied

    async def _move(self, shard: int, ops: list[tuple[str, str, Any]]) -> None:
        async def run() -> None:
            async with self._shards[shard].pipeline(transaction=False) as pipe:
                for op, key, arg in ops:
                    if op == "zrem":
                        pipe.zrem(key, arg)
                    else:
                        pipe.zadd(key, {arg[0]: arg[1]})
                await pipe.execute()

        await self._call(run)

    async def _create_map(self, board: str) -> None:
        initial = BucketMap.single(shard=self.home(board))
        key = names.bucket_map_key(board)
        await self._call(lambda: self._shards[self.home(board)].set(key, orjson.dumps(initial.to_json()), nx=True))

    async def _wait_for_replicas(self, shards: set[int]) -> None:
        if self._wait_replicas <= 0:
            return

        async def wait(shard: int) -> None:
            acked = await self._call(lambda: self._shards[shard].wait(self._wait_replicas, self._wait_timeout_ms))
            if acked < self._wait_replicas:
                raise BackendUnavailable(f"redis shard {shard}: {acked} of {self._wait_replicas} replicas in time")

        await asyncio.gather(*(wait(s) for s in shards))

    # -- splits -----------------------------------------------------------------------------

    async def _maybe_split(self, board: Board, applied: list[Total]) -> None:
        map_, counts = await self._map_and_counts(board.name)
        if map_ is None:
            return
        touched = {map_.locate(key_of(board, t)).id for t in applied if not t.removed}
        rates = await self._write_rates(board.name)
        for bucket in map_.buckets:
            if bucket.id in touched and self.policy.needs_split(counts.get(bucket.id, 0), rates.get(bucket.id, 0.0)):
                await self.split(board, bucket.id)

    async def _write_rates(self, board: str) -> dict[int, float]:
        """Writes a second per bucket over the last full second."""
        last = int(time.time()) - 1
        home = self._shards[self.home(board)]
        raw = await self._call(lambda: home.hgetall(names.bucket_writes_key(board, last)))
        return {int(k): float(v) for k, v in raw.items()}

    async def split(self, board: Board, bucket_id: int) -> bool:
        """Split one bucket at its median member onto the least-loaded shard; False if
        another split holds the board or the bucket has fewer than two members."""
        home = self.home(board.name)
        shard = self._shards[home]
        lock = names.split_lock_key(board.name)
        if not await self._call(lambda: shard.set(lock, self._writer_id, nx=True, px=60_000)):
            return False
        try:
            deadline = time.monotonic() + self._lease_ms / 1000 + 1
            writers = [names.writers_key(board.name)]
            while await self._call(lambda: self._live_leases[home](keys=writers)):
                if time.monotonic() > deadline:
                    return False
                await asyncio.sleep(0.001)
            return await self._split_locked(board, bucket_id)
        finally:
            await self._call(lambda: shard.delete(lock))

    async def _split_locked(self, board: Board, bucket_id: int) -> bool:
        map_, counts = await self._map_and_counts(board.name)
        if map_ is None:
            return False
        bucket = next((b for b in map_.buckets if b.id == bucket_id), None)
        if bucket is None:
            return False
        source = self._shards[bucket.shard]
        source_key = names.bucket_key(board.name, bucket.id)
        rows: list[Any] = list(await self._call(lambda: source.zrange(source_key, 0, -1, withscores=True)))
        size = counts.get(bucket.id, 0)
        rows = rows[:size]  # anything beyond the count is a tail left by an earlier split
        if len(rows) < 2:
            return False
        half = len(rows) // 2
        at = key_from_member(rows[half][1], rows[half][0])
        load: dict[int, int] = dict.fromkeys(range(len(self._shards)), 0)
        for b in map_.buckets:
            load[b.shard] += counts.get(b.id, 0)
        target = least_loaded(load)
        new_map, new = map_.split(bucket, at, target)
        dest = self._shards[target]
        dest_key = names.bucket_key(board.name, new.id)
        moved = rows[half:]

        async def copy() -> None:
            async with dest.pipeline(transaction=False) as pipe:
                pipe.delete(dest_key)
                for i in range(0, len(moved), 1000):
                    pipe.zadd(dest_key, {m: s for m, s in moved[i : i + 1000]})
                await pipe.execute()

        await self._call(copy)
        await self._wait_for_replicas({target})
        home = self._shards[self.home(board.name)]

        async def swap() -> None:
            async with home.pipeline(transaction=True) as pipe:
                pipe.set(names.bucket_map_key(board.name), orjson.dumps(new_map.to_json()))
                pipe.hset(names.bucket_counts_key(board.name), mapping={str(bucket.id): half, str(new.id): len(moved)})
                await pipe.execute()

        await self._call(swap)
        await self._call(lambda: source.zremrangebyrank(source_key, half, -1))
        await self._wait_for_replicas({self.home(board.name), bucket.shard})
        log.info(
            "bucket split",
            extra={
                "board": board.name,
                "bucket": bucket.id,
                "new_bucket": new.id,
                "shard": target,
                "moved": len(moved),
            },
        )
        return True

    # -- reads ------------------------------------------------------------------------------

    async def entry(self, board: Board, user_id: str) -> Entry | None:
        shard = self._shards[self.home(board.name)]

        async def read() -> list[Any]:
            async with shard.pipeline(transaction=True) as pipe:
                pipe.hget(names.users_key(board.name), user_id)
                pipe.get(names.bucket_map_key(board.name))
                pipe.hgetall(names.bucket_counts_key(board.name))
                result: list[Any] = await pipe.execute()
                return result

        raw_state, raw_map, raw_counts = await self._call(read)
        map_ = _decode_map(raw_map)
        if raw_state is None or map_ is None:
            return None
        _, removed, mem, total, _ = parse_state(raw_state)
        if removed:
            return None
        bucket = map_.locate(key_from_member(zscore(board.order, total), mem))
        key = names.bucket_key(board.name, bucket.id)
        position: Any = await self._call(lambda: self._shards[bucket.shard].zrank(key, mem))
        if position is None:
            return None  # between a write's steps: the member is moving
        counts = {int(k): int(v) for k, v in raw_counts.items()}
        return Entry(map_.rank(counts, bucket, int(position)), user_id, total)

    async def page(self, board: Board, first_rank: int, count: int) -> list[Entry]:
        if count <= 0:
            return []
        map_, counts = await self._map_and_counts(board.name)
        if map_ is None:
            return []

        async def read(bucket: Bucket, start: int, n: int) -> list[Any]:
            key = names.bucket_key(board.name, bucket.id)
            rows = await self._call(
                lambda: self._shards[bucket.shard].zrange(key, start, start + n - 1, withscores=True)
            )
            return list(rows)

        slices = map_.page(counts, first_rank, count)
        results = await asyncio.gather(*(read(s.bucket, s.start, s.count) for s in slices))
        entries = []
        for s, rows in zip(slices, results, strict=True):
            for i, (mem, score) in enumerate(rows):
                entries.append(Entry(s.first_rank + i, user_of(mem), zscore(board.order, int(score))))
        return entries

    async def count(self, board: Board) -> int:
        _, counts = await self._map_and_counts(board.name)
        return sum(counts.values())

    async def position(self, board: Board, user_id: str) -> LogPosition | None:
        shard = self._shards[self.home(board.name)]
        raw = await self._call(lambda: shard.hget(names.users_key(board.name), user_id))
        return parse_state(raw)[4] if raw is not None else None

    async def buckets(self, board: Board) -> list[BucketInfo]:
        map_, counts = await self._map_and_counts(board.name)
        if map_ is None:
            return []
        rates = await self._write_rates(board.name)
        return [BucketInfo(b.id, b.lower, b.shard, counts.get(b.id, 0), rates.get(b.id, 0.0)) for b in map_.buckets]

    async def close(self) -> None:
        for shard in self._shards:
            await shard.aclose()


def _decode_map(raw: bytes | str | None) -> BucketMap | None:
    if not raw:
        return None
    return BucketMap.from_json(orjson.loads(raw))
