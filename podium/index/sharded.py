"""The sharded rank index: a board cut into score buckets over several Redis shards.

Each board has a home shard (recorded in a directory on the first shard when the
board is first written, so adding shards never moves it) holding its bucket map
(`domain.buckets.BucketMap`, JSON), every user's newest total and version, the
writers' leases and the split lock. Each bucket is a sorted set on the shard the
map places it on, in the single-set index's encoding (`index.redis`): score =
±total, member = reached_at + user, so members sort in rank order.

The members of a bucket are those of its sorted set *within the bucket's key
range*: counts are read from the sorted sets themselves, by range, never kept
apart. So a count can never drift from the members, and anything a split or a
crash leaves outside a bucket's range is simply not counted.

Reads cost a fixed number of round trips however many buckets there are:
  rank  = the home shard (user, map), then one script per shard, in parallel:
          in-range counts of the buckets before + the user's place in its bucket
  page  = the home shard (map), the in-range counts per shard, then the slices

Writes (the rank-worker), per batch:
  1. begin, on the home shard: unless a split holds the board, take a lease and
     read the users' versions and the map (its epoch is the writer's fence);
  2. move the members, one script per shard, refused if a bucket's fence is
     newer than the writer's map (a split has started there);
  3. commit, on the home shard: if the lease is still held and the map unchanged,
     store each total whose version is still the one read.
Every step is idempotent; any refusal retries the batch from step 1.

A split (a bucket over the member or write-rate threshold of `SplitPolicy`)
takes the board's lock, waits for the leases to drain, raises the fences of the
bucket and of the new one, copies the upper half of the bucket's members to the
new bucket on the least-loaded shard, swaps the map, then removes the copied
members from the old bucket. Reads are exact at every step: before the swap the
old map is whole, and after it the copies left in the old bucket lie outside
its range.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import zlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from podium import names
from podium.domain.boards import Board
from podium.domain.buckets import Bucket, BucketMap, SplitPolicy, least_loaded, rebalancing_move, shard_loads
from podium.domain.ordering import SortKey, total_key
from podium.domain.totals import LogPosition, Total, newest_per_user
from podium.errors import BackendUnavailable
from podium.index.base import BucketInfo, Entry
from podium.index.redis import call, member, parse_state, state, user_of, wait_for_replicas, zscore

if TYPE_CHECKING:
    import redis.asyncio as aioredis

log = logging.getLogger("podium.index.sharded")

# Lua helper: how many members of sorted set `key` sort before (score, member).
# Members with a lower score are ZCOUNTed; among equal scores (ordered by member
# bytes) a binary search with ZRANGE … BYSCORE LIMIT finds the place: O(log² n).
COUNT_LT = """
local function count_lt(key, score, mem)
  -- A bucket's bounds were members when it was cut, and mostly still are: then ZRANK.
  local at = redis.call('ZSCORE', key, mem)
  if at and tonumber(at) == tonumber(score) then return redis.call('ZRANK', key, mem) end
  local n = redis.call('ZCOUNT', key, '-inf', '(' .. score)
  local lo, hi = 0, redis.call('ZCOUNT', key, score, score)
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local at = redis.call('ZRANGE', key, score, score, 'BYSCORE', 'LIMIT', mid, 1)[1]
    if at < mem then lo = mid + 1 else hi = mid end
  end
  return n + lo
end
local function count_range(key, lo_score, lo_mem, hi_score, hi_mem)
  local below = 0
  if lo_score ~= '' then below = count_lt(key, lo_score, lo_mem) end
  local upto = redis.call('ZCARD', key)
  if hi_score ~= '' and upto > 0 then
    -- Usually every member is below the upper bound (it is the next bucket's first): then ZCARD.
    local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
    local s, h = tonumber(last[2]), tonumber(hi_score)
    if not (s < h or (s == h and last[1] < hi_mem)) then upto = count_lt(key, hi_score, hi_mem) end
  end
  return upto - below, below
end
"""

# KEYS: bucket sorted sets. ARGV: per bucket its range (lo score, lo member, hi score, hi member;
# '' for open), then optionally a member whose place in the LAST bucket is wanted.
# Returns per bucket its in-range count and how many members sit below its range, then (if a
# member was given) that member's position in its bucket's range.
COUNTS = (
    COUNT_LT
    + """
local result = {}
local n = #KEYS
local last_below = 0
for i = 1, n do
  local j = (i - 1) * 4
  local count, below = count_range(KEYS[i], ARGV[j + 1], ARGV[j + 2], ARGV[j + 3], ARGV[j + 4])
  result[2 * i - 1] = count
  result[2 * i] = below
  last_below = below
end
local wanted = ARGV[n * 4 + 1]
if wanted then
  local rank = redis.call('ZRANK', KEYS[n], wanted)
  if rank then result[2 * n + 1] = rank - last_below else result[2 * n + 1] = -1 end
end
return result
"""
)

# KEYS: split lock, writers, users, map, pending. ARGV: writer id, lease ms, then per user:
# user, version, 'score|member' of the member the write will add ('' for a removal).
# Returns the map, each user's state and the member an earlier, uncommitted attempt may have
# added (to be removed now), and records this attempt's member in its place.
BEGIN = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
redis.call('ZADD', KEYS[2], now_ms + tonumber(ARGV[2]), ARGV[1])
local states, pending = {}, {}
for i = 3, #ARGV, 3 do
  local current = redis.call('HGET', KEYS[3], ARGV[i])
  states[#states + 1] = current or ''
  pending[#pending + 1] = redis.call('HGET', KEYS[5], ARGV[i]) or ''
  local version = -1
  if current then version = tonumber(string.match(current, '^(%d+)|')) end
  if tonumber(ARGV[i + 1]) > version and ARGV[i + 2] ~= '' then redis.call('HSET', KEYS[5], ARGV[i], ARGV[i + 2]) end
end
return {redis.call('GET', KEYS[4]) or '', states, pending}
"""

# KEYS: per op a bucket sorted set and its fence. ARGV: the writer's map epoch, then per op:
# 'a' (add) or 'r' (remove), member, score. Refuses (returns 0) before changing anything if
# any touched bucket's fence is newer than the writer's map.
MOVE = """
local epoch = tonumber(ARGV[1])
for i = 2, #KEYS, 2 do
  local fence = tonumber(redis.call('GET', KEYS[i]) or '0')
  if fence > epoch then return 0 end
end
for i = 1, #KEYS, 2 do
  local j = (i - 1) / 2 * 3 + 2
  if ARGV[j] == 'a' then
    redis.call('ZADD', KEYS[i], ARGV[j + 2], ARGV[j + 1])
  else
    redis.call('ZREM', KEYS[i], ARGV[j + 1])
  end
end
return 1
"""

# KEYS: writers, users, map, writes, pending. ARGV: writer id, map epoch, then per user:
# user, expected version (-1: none), new state, bucket id ('' if removed).
COMMIT = """
local lease = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
if not lease then return -1 end
local current_map = redis.call('GET', KEYS[3])
if not current_map or not string.find(current_map, '"epoch":' .. ARGV[2] .. ',', 1, true) then return -1 end
local applied = 0
for i = 3, #ARGV, 4 do
  local current = redis.call('HGET', KEYS[2], ARGV[i])
  local version = -1
  if current then version = tonumber(string.match(current, '^(%d+)|')) end
  if version == tonumber(ARGV[i + 1]) then
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
    redis.call('HDEL', KEYS[5], ARGV[i])
    if ARGV[i + 3] ~= '' then redis.call('HINCRBY', KEYS[4], ARGV[i + 3], 1) end
    applied = applied + 1
  end
end
redis.call('EXPIRE', KEYS[4], 60)
return applied
"""

# KEYS: writers. How many leases are still live (expired ones are dropped).
LIVE_LEASES = """
local now = redis.call('TIME')
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now[1] * 1000 + math.floor(now[2] / 1000))
return redis.call('ZCARD', KEYS[1])
"""


class StaleMap(Exception):
    """A bucket refused a move: a split started after this writer read the map."""


def key_from_member(score: float, raw: bytes | str) -> SortKey:
    text = raw.decode() if isinstance(raw, bytes) else raw
    return (int(score), int(text[:16], 16), text[17:])


def member_of_key(key: SortKey) -> str:
    return f"{key[1]:016x}:{key[2]}"


def bound(key: SortKey | None) -> list[str | int]:
    """A range end as two script arguments (score, member); '' for an open end."""
    return ["", ""] if key is None else [key[0], member_of_key(key)]


class ShardedRedisRankIndex:
    def __init__(
        self,
        shards: Sequence[aioredis.Redis],
        *,
        policy: SplitPolicy | None = None,
        wait_replicas: int = 0,
        wait_timeout_ms: int = 1000,
        lease_ms: int = 30_000,
    ) -> None:
        if not shards:
            raise ValueError("the sharded rank index needs at least one shard")
        self._shards = list(shards)
        self.policy = policy or SplitPolicy()
        self._wait_replicas = wait_replicas
        self._wait_timeout_ms = wait_timeout_ms
        self._lease_ms = lease_ms
        self._writer_id = uuid.uuid4().hex
        self._homes: dict[str, int] = {}
        self._begin = [s.register_script(BEGIN) for s in self._shards]
        self._move_script = [s.register_script(MOVE) for s in self._shards]
        self._commit = [s.register_script(COMMIT) for s in self._shards]
        self._counts = [s.register_script(COUNTS) for s in self._shards]
        self._live_leases = [s.register_script(LIVE_LEASES) for s in self._shards]

    @classmethod
    def from_urls(cls, urls: Sequence[str], **kwargs: Any) -> ShardedRedisRankIndex:
        import redis.asyncio as aioredis  # the driver is needed only by this profile

        return cls([aioredis.Redis.from_url(u) for u in urls], **kwargs)

    # -- plumbing ---------------------------------------------------------------------------

    def home(self, board: str) -> int:
        """The board's home shard, once known (see `_home`)."""
        return self._homes[board]

    async def _home(self, board: str, *, create: bool) -> int | None:
        """The board's home shard, from the directory on the first shard (cached: a home
        never changes). A board first written gets the shard its name hashes to among
        the shards configured then; None for a board never written (when not creating)."""
        if board in self._homes:
            return self._homes[board]
        directory = self._shards[0]
        raw = await call(lambda: directory.hget(names.homes_key(), board))
        if raw is None:
            guess = zlib.crc32(board.encode()) % len(self._shards)
            if not create:
                # A board written before the directory existed lives where its name hashes to.
                map_key = names.bucket_map_key(board)
                if not await call(lambda: self._shards[guess].exists(map_key)):
                    return None
            await call(lambda: directory.hsetnx(names.homes_key(), board, guess))
            raw = await call(lambda: directory.hget(names.homes_key(), board))
        home = int(raw if raw is not None else guess)
        if home >= len(self._shards):
            raise BackendUnavailable(f"redis: board {board!r} lives on shard {home}, beyond the configured shards")
        self._homes[board] = home
        return home

    async def _map(self, board: str) -> BucketMap | None:
        home = await self._home(board, create=False)
        if home is None:
            return None
        key = names.bucket_map_key(board)
        return _decode_map(await call(lambda: self._shards[home].get(key)))

    async def _bucket_counts(self, board: str, map_: BucketMap, wanted: tuple[Bucket, str] | None = None) -> Any:
        """In-range member counts of every bucket (one script per shard, in parallel); with
        `wanted` = (bucket, member), also the member's 0-based position in that bucket; and
        how many members of each bucket's sorted set lie below its range."""
        ranges = _ranges(map_)
        per_shard: dict[int, list[Bucket]] = defaultdict(list)
        for b in map_.buckets:
            if wanted is None or b is not wanted[0]:
                per_shard[b.shard].append(b)
        if wanted is not None:
            per_shard[wanted[0].shard].append(wanted[0])  # last on its shard: the script ranks it

        async def count(shard: int, buckets: list[Bucket]) -> list[int]:
            keys = [names.bucket_key(board, b.id) for b in buckets]
            args: list[str | int] = []
            for b in buckets:
                args += [*bound(ranges[b.id][0]), *bound(ranges[b.id][1])]
            if wanted is not None and shard == wanted[0].shard:
                args.append(wanted[1])
            result: list[int] = await call(lambda: self._counts[shard](keys=keys, args=args))
            return [int(x) for x in result]

        shards = list(per_shard)
        results = await asyncio.gather(*(count(s, per_shard[s]) for s in shards))
        counts: dict[int, int] = {}
        below: dict[int, int] = {}
        position = None
        for shard, result in zip(shards, results, strict=True):
            for i, b in enumerate(per_shard[shard]):
                counts[b.id] = result[2 * i]
                below[b.id] = result[2 * i + 1]
            if wanted is not None and shard == wanted[0].shard:
                position = result[-1]
        return counts, position, below

    # -- writes -----------------------------------------------------------------------------

    async def apply(self, board: Board, totals: Sequence[Total]) -> list[Total]:
        newest = newest_per_user(totals)
        if not newest:
            return []
        for attempt in range(300):
            applied = await self._apply_once(board, newest)
            if applied is not None:
                await self._maybe_split(board, applied)
                return applied
            await asyncio.sleep(min(0.001 * 2**attempt, 0.05))  # a split holds the board: wait
        raise BackendUnavailable(f"redis: board {board.name!r} stayed locked by a split")

    async def _apply_once(self, board: Board, totals: list[Total]) -> list[Total] | None:
        home = await self._home(board.name, create=True)
        assert home is not None
        keys = [
            names.split_lock_key(board.name),
            names.writers_key(board.name),
            names.users_key(board.name),
            names.bucket_map_key(board.name),
            names.pending_key(board.name),
        ]
        args: list[str | int] = [self._writer_id, self._lease_ms]
        for t in totals:
            args += [t.user_id, t.version, _pending(board, t)]
        begun = await call(lambda: self._begin[home](keys=keys, args=args))
        if begun is None:
            return None  # a split is under way
        started = time.monotonic()
        map_ = _decode_map(begun[0])
        if map_ is None:
            await self._release(board.name)
            await self._create_map(board.name)
            return None
        moves: dict[int, list[tuple[int, str, str, float]]] = defaultdict(list)  # shard → (bucket, op, member, score)
        commit_args: list[str | int] = [self._writer_id, map_.epoch]
        applied: list[Total] = []
        for t, raw, earlier in zip(totals, begun[1], begun[2], strict=True):
            current = parse_state(raw) if raw else None
            if current is not None and current[0] >= t.version:
                continue  # not newer: a duplicate or a reordered change
            if earlier and earlier.decode() != _pending(board, t):
                # An attempt that died before its commit added this member: take it out.
                score, _, stray = earlier.decode().partition("|")
                where = map_.locate(key_from_member(float(score), stray))
                moves[where.shard].append((where.id, "r", stray, 0))
            if current is not None and not current[1]:
                _, _, old_member, old_total, _ = current
                old = map_.locate(key_from_member(zscore(board.order, old_total), old_member))
                moves[old.shard].append((old.id, "r", old_member, 0))
            new_id = ""
            if not t.removed:
                new = map_.locate(total_key(board.order, t))
                moves[new.shard].append((new.id, "a", member(t), zscore(board.order, t.total)))
                new_id = str(new.id)
            commit_args += [t.user_id, current[0] if current is not None else -1, state(t), new_id]
            applied.append(t)
        if time.monotonic() - started > self._lease_ms / 3000:
            await self._release(board.name)  # too slow: the lease may lapse mid-move; start over
            return None
        try:
            await asyncio.gather(*(self._move(board.name, shard, map_.epoch, ops) for shard, ops in moves.items()))
        except StaleMap:
            await self._release(board.name)
            await self._heal_fences(board.name, map_)
            return None
        commit_keys = [
            names.writers_key(board.name),
            names.users_key(board.name),
            names.bucket_map_key(board.name),
            names.bucket_writes_key(board.name, int(time.time())),
            names.pending_key(board.name),
        ]
        done = await call(lambda: self._commit[home](keys=commit_keys, args=commit_args))
        if done == -1:
            return None  # the lease lapsed or the map changed: redo the (idempotent) batch
        await self._wait_for_replicas({home, *moves})
        return applied

    async def _heal_fences(self, board: str, map_: BucketMap) -> None:
        """A fence newer than the map with no split under way was left by a split that
        died between raising it and swapping the map: lower it to the map's epoch."""
        home = self._shards[self.home(board)]
        if await call(lambda: home.exists(names.split_lock_key(board))):
            return  # a split is under way: wait for it
        current = await self._map(board)
        if current is None or current.epoch != map_.epoch:
            return  # the map moved on: the writer simply retries with it
        for b in map_.buckets:
            await self._lower_fence(self._shards[b.shard], names.bucket_fence_key(board, b.id), map_.epoch)

    async def _lower_fence(self, client: aioredis.Redis, key: str, epoch: int) -> None:
        fence = await call(lambda: client.get(key))
        if fence is not None and int(fence) > epoch:
            log.warning("lowering a fence left by a dead split", extra={"fence": key})
            await call(lambda: client.set(key, epoch))

    async def _release(self, board: str) -> None:
        shard = self._shards[self.home(board)]
        await call(lambda: shard.zrem(names.writers_key(board), self._writer_id))

    async def _move(self, board: str, shard: int, epoch: int, ops: list[tuple[int, str, str, float]]) -> None:
        keys: list[str] = []
        args: list[str | int | float] = [epoch]
        for bucket_id, op, mem, score in ops:
            keys += [names.bucket_key(board, bucket_id), names.bucket_fence_key(board, bucket_id)]
            args += [op, mem, score]
        if not await call(lambda: self._move_script[shard](keys=keys, args=args)):
            raise StaleMap

    async def _create_map(self, board: str) -> None:
        initial = BucketMap.single(shard=self.home(board))
        key = names.bucket_map_key(board)
        await call(lambda: self._shards[self.home(board)].set(key, orjson.dumps(initial.to_json()), nx=True))

    async def _wait_for_replicas(self, shards: set[int]) -> None:
        await asyncio.gather(
            *(
                wait_for_replicas(self._shards[s], self._wait_replicas, self._wait_timeout_ms, f"redis shard {s}")
                for s in shards
            )
        )

    # -- splits -----------------------------------------------------------------------------

    async def _maybe_split(self, board: Board, applied: list[Total]) -> None:
        map_ = await self._map(board.name)
        if map_ is None:
            return
        touched = {map_.locate(total_key(board.order, t)).id for t in applied if not t.removed}
        rates = await self._write_rates(board.name)
        for _ in range(64):  # a big batch may need a bucket split, then its halves again
            counts, _, _ = await self._bucket_counts(board.name, map_)
            hot = [
                b
                for b in map_.buckets
                if self.policy.needs_split(counts.get(b.id, 0), rates.get(b.id, 0.0) if b.id in touched else 0.0)
            ]
            if not hot or not await self.split(board, hot[0].id):
                break
            rates.pop(hot[0].id, None)  # its writes now spread over the two halves
            next_map = await self._map(board.name)
            if next_map is None:
                return
            map_ = next_map
        else:  # 64 splits in a row: the last counts predate them
            await self.rebalance(board)
            return
        await self.rebalance(board, known=(map_, counts))  # the counts just read: no second count

    async def rebalance(
        self, board: Board, *, max_moves: int = 4, known: tuple[BucketMap, dict[int, int]] | None = None
    ) -> int:
        """Move whole buckets from the fullest shard to the emptiest while that evens them
        out (a shard just added takes its share); returns how many moved. `known`: the
        map and counts the caller has just read, for the first step."""
        moved = 0
        for _ in range(max_moves):
            if known is not None:
                map_, counts = known
                known = None
            else:
                found = await self._map(board.name)
                if found is None:
                    return moved
                map_ = found
                counts, _, _ = await self._bucket_counts(board.name, map_)
            step = rebalancing_move(map_, counts, len(self._shards))
            if step is None or not await self.move_bucket(board, step[0].id, step[1]):
                return moved
            moved += 1
        return moved

    async def move_bucket(self, board: Board, bucket_id: int, shard: int) -> bool:
        """Move one bucket to another shard, as a split moves a half: under the board's
        lock, behind the bucket's fence; reads stay exact throughout."""
        return await self._locked(board, lambda: self._relocate(board, bucket_id, shard=shard))

    async def _write_rates(self, board: str) -> dict[int, float]:
        """Writes a second per bucket over the last full second."""
        last = int(time.time()) - 1
        home = self._shards[self.home(board)]
        raw = await call(lambda: home.hgetall(names.bucket_writes_key(board, last)))
        return {int(k): float(v) for k, v in raw.items()}

    async def split(self, board: Board, bucket_id: int) -> bool:
        """Split one bucket at its median member onto the least-loaded shard; False if
        another split holds the board, writers did not drain, or it has < 2 members."""
        return await self._locked(board, lambda: self._relocate(board, bucket_id, shard=None))

    async def _locked(self, board: Board, work: Callable[[], Awaitable[bool]]) -> bool:
        """Run `work` holding the board's split lock, once the writers' leases drained."""
        home = await self._home(board.name, create=False)
        if home is None:
            return False
        shard = self._shards[home]
        lock = names.split_lock_key(board.name)
        if not await call(lambda: shard.set(lock, self._writer_id, nx=True, px=120_000)):
            return False
        try:
            deadline = time.monotonic() + self._lease_ms / 1000 + 1
            writers = [names.writers_key(board.name)]
            while await call(lambda: self._live_leases[home](keys=writers)):
                if time.monotonic() > deadline:
                    return False
                await asyncio.sleep(0.001)
            return await work()
        finally:
            await call(lambda: shard.delete(lock))

    async def _relocate(self, board: Board, bucket_id: int, *, shard: int | None) -> bool:
        """shard None: split the bucket, its upper half to the least-loaded shard;
        else: move the whole bucket to `shard`."""
        map_ = await self._map(board.name)
        bucket = next((b for b in map_.buckets if b.id == bucket_id), None) if map_ is not None else None
        if map_ is None or bucket is None:
            return False
        new_epoch = map_.epoch + 1
        source = self._shards[bucket.shard]
        source_key = names.bucket_key(board.name, bucket.id)
        # Fence first: a writer that read the old map can move nothing in this bucket now.
        await call(lambda: source.set(names.bucket_fence_key(board.name, bucket.id), new_epoch))
        low, high = _ranges(map_)[bucket.id]
        rows = await self._members_in_range(source, source_key, low, high)
        if shard is None:
            if len(rows) < 2:
                await call(lambda: source.set(names.bucket_fence_key(board.name, bucket.id), map_.epoch))
                return False
            half = len(rows) // 2
            at = key_from_member(rows[half][1], rows[half][0])
            counts, _, _ = await self._bucket_counts(board.name, map_)
            target = least_loaded(shard_loads(map_, counts, len(self._shards)))
            new_map, new = map_.split(bucket, at, target)
        else:
            half, target = 0, shard
            new_map, new = map_.move(bucket, shard)
        assert new_map.epoch == new_epoch
        dest = self._shards[target]
        dest_key = names.bucket_key(board.name, new.id)
        moved = rows[half:]

        async def copy() -> None:
            async with dest.pipeline(transaction=False) as pipe:
                pipe.set(names.bucket_fence_key(board.name, new.id), new_epoch)
                pipe.delete(dest_key)
                for i in range(0, len(moved), 1000):
                    pipe.zadd(dest_key, {m: s for m, s in moved[i : i + 1000]})
                await pipe.execute()

        await call(copy)
        await self._wait_for_replicas({target})
        home_client = self._shards[self.home(board.name)]
        map_key = names.bucket_map_key(board.name)
        await call(lambda: home_client.set(map_key, orjson.dumps(new_map.to_json())))

        async def trim() -> None:  # the copies left behind are out of range already: tidiness
            async with source.pipeline(transaction=False) as pipe:
                for i in range(0, len(moved), 1000):
                    pipe.zrem(source_key, *(m for m, _ in moved[i : i + 1000]))
                await pipe.execute()

        await call(trim)
        await self._wait_for_replicas({self.home(board.name), bucket.shard})
        log.info(
            "bucket split" if shard is None else "bucket moved",
            extra={
                "board": board.name,
                "bucket": bucket.id,
                "new_bucket": new.id,
                "shard": target,
                "moved": len(moved),
            },
        )
        return True

    async def _members_in_range(
        self, client: aioredis.Redis, key: str, low: SortKey | None, high: SortKey | None
    ) -> list[Any]:
        """The (member, score) pairs of `key` within [low, high), in order."""
        rows: list[Any] = list(await call(lambda: client.zrange(key, 0, -1, withscores=True)))
        keys = [key_from_member(s, m) for m, s in rows]
        return [
            row for row, k in zip(rows, keys, strict=True) if (low is None or k >= low) and (high is None or k < high)
        ]

    # -- reads ------------------------------------------------------------------------------

    async def entry(self, board: Board, user_id: str) -> Entry | None:
        home = await self._home(board.name, create=False)
        if home is None:
            return None
        shard = self._shards[home]

        async def read() -> list[Any]:
            async with shard.pipeline(transaction=True) as pipe:
                pipe.hget(names.users_key(board.name), user_id)
                pipe.get(names.bucket_map_key(board.name))
                result: list[Any] = await pipe.execute()
                return result

        raw_state, raw_map = await call(read)
        map_ = _decode_map(raw_map)
        if raw_state is None or map_ is None:
            return None
        _, removed, mem, total, _ = parse_state(raw_state)
        if removed:
            return None
        bucket = map_.locate(key_from_member(zscore(board.order, total), mem))
        counts, position, _ = await self._bucket_counts(board.name, map_, (bucket, mem))
        if position is None or position < 0:
            return None  # between a write's steps: the member is moving
        return Entry(map_.rank(counts, bucket, position), user_id, total)

    async def page(self, board: Board, first_rank: int, count: int) -> list[Entry]:
        if count <= 0:
            return []
        map_ = await self._map(board.name)
        if map_ is None:
            return []
        counts, _, below = await self._bucket_counts(board.name, map_)

        async def read(bucket: Bucket, start: int, n: int) -> list[Any]:
            key = names.bucket_key(board.name, bucket.id)
            client = self._shards[bucket.shard]
            first = below.get(bucket.id, 0) + start  # skip what lies below the range
            rows = await call(lambda: client.zrange(key, first, first + n - 1, withscores=True))
            return list(rows)

        slices = map_.page(counts, first_rank, count)
        results = await asyncio.gather(*(read(s.bucket, s.start, s.count) for s in slices))
        entries = []
        for s, rows in zip(slices, results, strict=True):
            for i, (mem, score) in enumerate(rows):
                entries.append(Entry(s.first_rank + i, user_of(mem), zscore(board.order, int(score))))
        return entries

    async def count(self, board: Board) -> int:
        map_ = await self._map(board.name)
        if map_ is None:
            return 0
        counts, _, _ = await self._bucket_counts(board.name, map_)
        return sum(counts.values())

    async def position(self, board: Board, user_id: str) -> LogPosition | None:
        home = await self._home(board.name, create=False)
        if home is None:
            return None
        shard = self._shards[home]
        raw = await call(lambda: shard.hget(names.users_key(board.name), user_id))
        return parse_state(raw)[4] if raw is not None else None

    async def buckets(self, board: Board) -> list[BucketInfo]:
        map_ = await self._map(board.name)
        if map_ is None:
            return []
        counts, _, _ = await self._bucket_counts(board.name, map_)
        rates = await self._write_rates(board.name)
        return [BucketInfo(b.id, b.lower, b.shard, counts.get(b.id, 0), rates.get(b.id, 0.0)) for b in map_.buckets]

    async def close(self) -> None:
        for shard in self._shards:
            await shard.aclose()


def _pending(board: Board, t: Total) -> str:
    """What BEGIN records of a write's new member, to find it again: 'score|member'."""
    return "" if t.removed else f"{zscore(board.order, t.total)}|{member(t)}"


def _ranges(map_: BucketMap) -> dict[int, tuple[SortKey | None, SortKey | None]]:
    """Each bucket's key range [low, high) (None: open)."""
    bounds = [b.lower for b in map_.buckets] + [None]
    return {b.id: (bounds[i], bounds[i + 1]) for i, b in enumerate(map_.buckets)}


def _decode_map(raw: bytes | str | None) -> BucketMap | None:
    if not raw:
        return None
    return BucketMap.from_json(orjson.loads(raw))
