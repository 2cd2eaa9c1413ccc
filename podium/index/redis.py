"""The distributed rank index: Redis, one sorted set and one hash per board.

Rank order is (total, reached_at_us, user_id). A sorted-set score (a double)
holds a total exactly (|total| ≤ 2^53 − 1) but not a tie-break as well, so:
  score  = −total on a desc board, +total on an asc board (ZRANK is the rank − 1)
  member = 16 hex digits of reached_at_us, then the user id: Redis orders equal
           scores by member bytes, i.e. by who reached the total first.
The hash keeps each user's newest version so that a Lua script can apply a total
only if it is newer, atomically, for a whole batch of users in one call.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from podium import names
from podium.domain.boards import Board, Order
from podium.domain.totals import LogPosition, Total, newest_per_user
from podium.errors import BackendUnavailable
from podium.index.base import BucketInfo, Entry

if TYPE_CHECKING:
    import redis.asyncio as aioredis

T = TypeVar("T")

# KEYS: users hash, rank zset. ARGV: per user 6 values. Returns how many applied.
APPLY = """
local applied = 0
for i = 1, #ARGV, 6 do
  local user, version = ARGV[i], tonumber(ARGV[i + 1])
  local current = redis.call('HGET', KEYS[1], user)
  local newer = true
  if current then
    local v, removed, member = string.match(current, '^(%d+)|(%d)|([^|]*)|')
    if tonumber(v) >= version then
      newer = false
    elseif removed == '0' then
      redis.call('ZREM', KEYS[2], member)
    end
  end
  if newer then
    redis.call('HSET', KEYS[1], user, ARGV[i + 2])
    if ARGV[i + 3] == '0' then
      redis.call('ZADD', KEYS[2], ARGV[i + 4], ARGV[i + 5])
    end
    applied = applied + 1
  end
end
return applied
"""

# KEYS: users hash, rank zset. ARGV: user. Returns {rank0, state} or false.
ENTRY = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return false end
local removed, member = string.match(current, '^%d+|(%d)|([^|]*)|')
if removed ~= '0' then return false end
return {redis.call('ZRANK', KEYS[2], member), current}
"""

# KEYS: a sorted set. ARGV: cursor, count, then user ids. One ZSCAN step: the next cursor
# and the members of those users met in it. Filtered here, so a repair's scan of a big set
# sends back only what it looks for.
MEMBERS_OF = """
local users = {}
for i = 3, #ARGV do users[ARGV[i]] = true end
local step = redis.call('ZSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[2])
local found = {}
for i = 1, #step[2], 2 do
  if users[string.sub(step[2][i], 18)] then found[#found + 1] = step[2][i] end
end
return {step[1], found}
"""

# KEYS: users hash, rank zset. ARGV: how many strays, the strays, then per user 4 values:
# user, state ('' to forget the user), score, member ('' for none). Unconditional: a repair.
REPAIR = """
local strays = tonumber(ARGV[1])
for i = 2, strays + 1 do redis.call('ZREM', KEYS[2], ARGV[i]) end
for i = strays + 2, #ARGV, 4 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  if current then redis.call('ZREM', KEYS[2], string.match(current, '^%d+|%d|([^|]*)|')) end
  if ARGV[i + 1] == '' then
    redis.call('HDEL', KEYS[1], ARGV[i])
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
  if ARGV[i + 3] ~= '' then redis.call('ZADD', KEYS[2], ARGV[i + 2], ARGV[i + 3]) end
end
return 1
"""


def member(t: Total) -> str:
    return f"{t.reached_at_us:016x}:{t.user_id}"


def user_of(member: bytes | str) -> str:
    text = member.decode() if isinstance(member, bytes) else member
    return text[17:]


def zscore(order: Order, total: int) -> int:
    return -total if order is Order.DESC else total


def state(t: Total) -> str:
    """version|removed|member|total|partition|offset — what the hash holds per user."""
    return f"{t.version}|{int(t.removed)}|{member(t)}|{t.total}|{t.position.partition}|{t.position.offset}"


def parse_state(raw: bytes | str) -> tuple[int, bool, str, int, LogPosition]:
    text = raw.decode() if isinstance(raw, bytes) else raw
    version, removed, mem, total, partition, offset = text.split("|")
    return int(version), removed == "1", mem, int(total), LogPosition(int(partition), int(offset))


async def call(op: Callable[[], Awaitable[T]]) -> T:
    """Run one Redis operation; a lost or timed-out connection becomes BackendUnavailable."""
    import redis.exceptions

    try:
        return await op()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        raise BackendUnavailable(f"redis: {exc}") from exc


async def wait_for_replicas(client: aioredis.Redis, replicas: int, timeout_ms: int, where: str = "redis") -> None:
    """Block until the writes so far on `client` reached `replicas` replicas (Redis WAIT)."""
    if replicas <= 0:
        return
    acked = await call(lambda: client.wait(replicas, timeout_ms))
    if acked < replicas:
        raise BackendUnavailable(f"{where}: {acked} of {replicas} replicas acknowledged in time")


async def members_of(client: aioredis.Redis, script: Any, key: str, users: Sequence[str]) -> list[bytes]:
    """Every member of these users in sorted set `key` (ZSCAN: each member there
    throughout the scan is met at least once)."""
    found: dict[bytes, None] = {}  # ZSCAN may meet a member twice
    cursor: bytes | int = 0
    while True:
        step = functools.partial(script, keys=[key], args=[cursor, 1000, *users], client=client)
        cursor, members = await call(step)
        found.update(dict.fromkeys(members))
        if int(cursor) == 0:
            return list(found)


class RedisRankIndex:
    def __init__(self, client: aioredis.Redis, *, wait_replicas: int = 0, wait_timeout_ms: int = 1000) -> None:
        self._redis = client
        self._wait_replicas = wait_replicas
        self._wait_timeout_ms = wait_timeout_ms
        self._apply = client.register_script(APPLY)
        self._entry = client.register_script(ENTRY)
        self._members_of = client.register_script(MEMBERS_OF)
        self._repair = client.register_script(REPAIR)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisRankIndex:
        import redis.asyncio as aioredis  # the driver is needed only by this profile

        return cls(aioredis.Redis.from_url(url), **kwargs)

    async def apply(self, board: Board, totals: Sequence[Total]) -> list[Total]:
        newest = newest_per_user(totals)  # one argument set per user
        if not newest:
            return []
        args: list[str | int] = []
        for t in newest:
            args += [t.user_id, t.version, state(t), int(t.removed), zscore(board.order, t.total), member(t)]
        keys = [names.users_key(board.name), names.rank_key(board.name)]
        await call(lambda: self._apply(keys=keys, args=args))
        await wait_for_replicas(self._redis, self._wait_replicas, self._wait_timeout_ms)
        return newest

    async def entry(self, board: Board, user_id: str) -> Entry | None:
        keys = [names.users_key(board.name), names.rank_key(board.name)]
        found = await call(lambda: self._entry(keys=keys, args=[user_id]))
        if not found or found[0] is None:
            return None
        _, _, _, total, _ = parse_state(found[1])
        return Entry(int(found[0]) + 1, user_id, total)

    async def page(self, board: Board, first_rank: int, count: int) -> list[Entry]:
        if count <= 0:
            return []
        start = max(first_rank, 1) - 1
        key = names.rank_key(board.name)
        rows: list[Any] = list(await call(lambda: self._redis.zrange(key, start, start + count - 1, withscores=True)))
        return [Entry(start + i + 1, user_of(m), zscore(board.order, int(s))) for i, (m, s) in enumerate(rows)]

    async def count(self, board: Board) -> int:
        key = names.rank_key(board.name)
        return int(await call(lambda: self._redis.zcard(key)))

    async def buckets(self, board: Board) -> list[BucketInfo]:
        members = await self.count(board)
        return [BucketInfo(0, None, 0, members, 0.0)] if members else []

    async def position(self, board: Board, user_id: str) -> LogPosition | None:
        key = names.users_key(board.name)
        raw = await call(lambda: self._redis.hget(key, user_id))
        return parse_state(raw)[4] if raw is not None else None

    async def repair(self, board: Board, users: Mapping[str, Total | None]) -> None:
        if not users:
            return
        keys = [names.users_key(board.name), names.rank_key(board.name)]
        strays = await members_of(self._redis, self._members_of, keys[1], list(users))
        args: list[str | int | bytes] = [len(strays), *strays]
        for user_id, t in users.items():
            if t is None:
                args += [user_id, "", 0, ""]  # the store does not know the user: forget it
            else:
                args += [user_id, state(t), zscore(board.order, t.total), "" if t.removed else member(t)]
        await call(lambda: self._repair(keys=keys, args=args))
        await wait_for_replicas(self._redis, self._wait_replicas, self._wait_timeout_ms)

    async def drop(self, board: Board) -> None:
        """Delete the board's keys; UNLINK frees a big sorted set in the background."""
        keys = [names.users_key(board.name), names.rank_key(board.name)]
        await call(lambda: self._redis.unlink(*keys))

    async def close(self) -> None:
        await self._redis.aclose()
