"""The distributed social index: Redis (one server, or the first shard of the rank
index; keys in podium/plumbing/names.py). Each operation is one Lua script, so a fan-out, a
friend-list change and a user crossing the fan-out cap never interleave.

The scripts build the keys of followers' boards themselves (which boards a change
reaches is known only once the followers are read), so they need one Redis, not a
Redis Cluster. Friends boards hold members as the rank index does: score = ±total,
member = 16 hex digits of reached_at_us, ':', user id — Redis orders equal scores by
member bytes, which is the rank order's tie rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from podium.domain.boards import Board
from podium.domain.totals import Total, newest_per_user
from podium.index.redis import call, member, user_of, wait_for_replicas, zscore
from podium.plumbing import names
from podium.social.base import FriendEntry

if TYPE_CHECKING:
    import redis.asyncio as aioredis

# Helpers shared by the scripts: the key names of podium/plumbing/names.py, built from the prefix.
KEYS_LUA = """
local P = ARGV[1]
local function friends(u) return P .. ':friends:{' .. u .. '}' end
local function followers(u) return P .. ':followers:{' .. u .. '}' end
local function heavy() return P .. ':heavy' end
local function followed() return P .. ':followed' end
local function followed_known() return P .. ':followed:known' end
local function joined() return P .. ':joined' end
local function totals(b) return P .. ':totals:{' .. b .. '}' end
local function boards_of(u) return P .. ':boards:{' .. u .. '}' end  -- the old layout's
local function board_lists() return P .. ':boardlists' end
local function board(b, u) return P .. ':board:{' .. b .. '}:{' .. u .. '}' end
local function parse(state)  -- version, removed, member, score
  return string.match(state, '^(%d+)|(%d)|([^|]*)|(.*)$')
end
-- The boards a user holds a live total on: the list in one hash (board names hold no
-- space), and those a version before kept in a set of their own. A board listed whose
-- total has since been removed is harmless: every reader checks the state.
local function boards_listed(u)
  local seen, list = {}, {}
  for _, b in ipairs(redis.call('SMEMBERS', boards_of(u))) do
    if not seen[b] then seen[b] = true; list[#list + 1] = b end
  end
  local listed = redis.call('HGET', board_lists(), u)
  if listed then
    for b in string.gmatch(listed, '%S+') do
      if not seen[b] then seen[b] = true; list[#list + 1] = b end
    end
  end
  return list
end
"""

# ARGV: prefix, board, then the batch as JSON: per user [user, version, state, removed,
# score, member] (one argument: packing six a user was most of the writer's CPU).
# Returns {the positions (1-based) in the batch of the users applied, 1 if the followed set
# is known to be whole here (else every user's followers are read, as before it was kept)}.
APPLY = (
    KEYS_LUA
    + """
local b = ARGV[2]
local board_totals = totals(b)
local batch = cjson.decode(ARGV[3])
-- The users' states, heavy marks and whether anyone here follows them in a few calls of
-- many arguments (each call costs the primary, and the replica replaying it, more than its
-- work); Lua's stack takes a bounded number at a time.
local users, states, fanned = {}, {}, {}
local known = redis.call('EXISTS', followed_known()) == 1
for i, u in ipairs(batch) do users[i] = u[1] end
for first = 1, #users, 1000 do
  local last = math.min(first + 999, #users)
  local got = redis.call('HMGET', board_totals, unpack(users, first, last))
  local marks = redis.call('SMISMEMBER', heavy(), unpack(users, first, last))
  local follows = known and redis.call('SMISMEMBER', followed(), unpack(users, first, last))
  for j = 1, last - first + 1 do
    states[first + j - 1] = got[j]
    -- Fanned out on write: not heavy, and (once the set is whole) followed by someone here.
    fanned[first + j - 1] = marks[j] == 0 and (not known or follows[j] == 1)
  end
end
local applied, stored, relisted, delisted = {}, {}, {}, {}
for i, u in ipairs(batch) do
  local user, version, state, removed, score, mem = u[1], u[2], u[3], u[4], u[5], u[6]
  local current = states[i]
  local old = nil
  local newer = true
  if current then
    local v, r, m = parse(current)
    if tonumber(v) >= version then newer = false elseif r == '0' then old = m end
  end
  if newer then
    stored[#stored + 1] = user
    stored[#stored + 1] = state
    -- Into each follower's board. Not the user's own: READ takes a user's own entry from
    -- its state, so a user without friends costs no sorted set of its own (a key a user
    -- and board was most of this script's time and of the memory it took).
    -- A user no one here follows (most users, and every new one) costs no read.
    local owners = {}
    if fanned[i] then owners = redis.call('SMEMBERS', followers(user)) end
    for _, owner in ipairs(owners) do
      if old then redis.call('ZREM', board(b, owner), old) end
      if removed == '0' then redis.call('ZADD', board(b, owner), score, mem) end
    end
    -- The user's board list changes only when the board turns live or removed for them,
    -- which the state read above tells: a returning user's total writes no list (a set
    -- a user written every time was a third of this script's time).
    if removed == '0' then
      if not old then relisted[#relisted + 1] = user end
    elseif old then
      delisted[#delisted + 1] = user
      redis.call('SREM', boards_of(user), b)  -- rare: a removal, the old layout's set
    end
    applied[#applied + 1] = i
  end
end
for first = 1, #stored, 1000 do
  redis.call('HSET', board_totals, unpack(stored, first, math.min(first + 999, #stored)))
end
-- The lists of the users whose board turned live or removed: read, edited and written in a
-- few calls of many arguments.
local changed, live = {}, {}
for _, u in ipairs(relisted) do changed[#changed + 1] = u; live[#changed] = true end
for _, u in ipairs(delisted) do changed[#changed + 1] = u end
local lists, unlisted = {}, {}
for first = 1, #changed, 1000 do
  local last = math.min(first + 999, #changed)
  local got = redis.call('HMGET', board_lists(), unpack(changed, first, last))
  for j = 1, last - first + 1 do
    local k = first + j - 1
    local u, listed = changed[k], got[j]
    if live[k] then
      if not listed then
        lists[#lists + 1] = u; lists[#lists + 1] = b
      elseif not string.find(' ' .. listed .. ' ', ' ' .. b .. ' ', 1, true) then
        lists[#lists + 1] = u; lists[#lists + 1] = listed .. ' ' .. b
      end
    elseif listed then
      local kept = {}
      for name in string.gmatch(listed, '%S+') do if name ~= b then kept[#kept + 1] = name end end
      if #kept == 0 then
        unlisted[#unlisted + 1] = u
      else
        lists[#lists + 1] = u; lists[#lists + 1] = table.concat(kept, ' ')
      end
    end
  end
end
for first = 1, #lists, 1000 do
  redis.call('HSET', board_lists(), unpack(lists, first, math.min(first + 999, #lists)))
end
for first = 1, #unlisted, 1000 do
  redis.call('HDEL', board_lists(), unpack(unlisted, first, math.min(first + 999, #unlisted)))
end
return {applied, known and 1 or 0}
"""
)

# ARGV: prefix, fan-out cap, user, mode, then the new friend list. Mode (a shard joining,
# podium/social/grow.py): 'mark' records that the processes wrote the user's list here;
# 'fill' writes it only if they have not (the fill's copy may be older than theirs).
REPLACE = (
    KEYS_LUA
    + """
local cap, user = tonumber(ARGV[2]), ARGV[3]
local function place(f, owners, add)  -- f's live totals into / out of the owners' boards
  for _, b in ipairs(boards_listed(f)) do
    local state = redis.call('HGET', totals(b), f)
    if state then
      local _, r, m, score = parse(state)
      if r == '0' then
        for _, owner in ipairs(owners) do
          if add then
            redis.call('ZADD', board(b, owner), score, m)
          else
            redis.call('ZREM', board(b, owner), m)
          end
        end
      end
    end
  end
end
local new, old = {}, {}
local mode = ARGV[4]
if mode == 'fill' and redis.call('SISMEMBER', joined(), user) == 1 then return 0 end
if mode ~= '' then redis.call('SADD', joined(), user) end
for i = 5, #ARGV do if ARGV[i] ~= user then new[ARGV[i]] = true end end
for _, f in ipairs(redis.call('SMEMBERS', friends(user))) do old[f] = true end
for f in pairs(old) do
  if not new[f] then
    redis.call('SREM', friends(user), f)
    redis.call('SREM', followers(f), user)
    if redis.call('EXISTS', followers(f)) == 0 then redis.call('SREM', followed(), f) end
    place(f, {user}, false)
    if redis.call('SISMEMBER', heavy(), f) == 1 and redis.call('SCARD', followers(f)) <= cap then
      redis.call('SREM', heavy(), f)  -- back under the cap: fanned out on write again
      place(f, redis.call('SMEMBERS', followers(f)), true)
    end
  end
end
for f in pairs(new) do
  if not old[f] then
    redis.call('SADD', friends(user), f)
    redis.call('SADD', followers(f), user)
    redis.call('SADD', followed(), f)
    if redis.call('SISMEMBER', heavy(), f) == 0 then
      if redis.call('SCARD', followers(f)) > cap then
        redis.call('SADD', heavy(), f)  -- over the cap: out of every follower's board
        place(f, redis.call('SMEMBERS', followers(f)), false)
      else
        place(f, {user}, true)
      end
    end
  end
end
return 1
"""
)

# ARGV: prefix, board, user, count. Returns {precomputed [member, score, ...], the states of
# the user and of its heavy friends}. The precomputed part is read one longer than asked: a
# board written before own entries were read from the state may still hold the user's own,
# stale member, which the reader drops.
READ = (
    KEYS_LUA
    + """
local b, user, count = ARGV[2], ARGV[3], tonumber(ARGV[4])
local pre = redis.call('ZRANGE', board(b, user), 0, count, 'WITHSCORES')
local live = {}
local own = redis.call('HGET', totals(b), user)
if own then live[#live + 1] = own end
for _, f in ipairs(redis.call('SINTER', friends(user), heavy())) do
  local state = redis.call('HGET', totals(b), f)
  if state then live[#live + 1] = state end
end
return {pre, live}
"""
)


# ARGV: prefix, board, user. The user's board anew: every friend not read at query time whose
# live total the shard holds (the user's own entry is read from its state, as in READ).
RESET = (
    KEYS_LUA
    + """
local b, user = ARGV[2], ARGV[3]
redis.call('DEL', board(b, user))
for _, f in ipairs(redis.call('SDIFF', friends(user), heavy())) do
  local state = redis.call('HGET', totals(b), f)
  if state then
    local _, r, m, score = parse(state)
    if r == '0' then redis.call('ZADD', board(b, user), score, m) end
  end
end
return 1
"""
)


# How much of the keyspace each apply scans while the followed set is being learned (once,
# the first time a version that keeps it meets an index written before it).
_LEARN_STEPS = 10
_LEARN_KEYS = 1000


def state(board: Board, t: Total) -> str:
    return state_of(board, t, member(board, t))


def state_of(board: Board, t: Total, mem: str) -> str:
    return f"{t.version}|{int(not t.ranked)}|{mem}|{zscore(board.order, t.total)}"


class RedisSocialIndex:
    def __init__(
        self, client: aioredis.Redis, *, fan_out_cap: int, wait_replicas: int = 0, wait_timeout_ms: int = 1000
    ) -> None:
        self._redis = client
        self._cap = fan_out_cap
        self._wait_replicas = wait_replicas
        self._wait_timeout_ms = wait_timeout_ms
        self._apply = client.register_script(APPLY)
        self._replace = client.register_script(REPLACE)
        self._read = client.register_script(READ)
        self._reset = client.register_script(RESET)
        # Whether this shard's followed set is whole (the apply script says so with every
        # batch); until it is, each apply takes a few steps of learning it.
        self._followed_known = False
        self._followed_cursor = 0

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisSocialIndex:
        import redis.asyncio as aioredis  # the driver is needed only by this profile

        return cls(aioredis.Redis.from_url(url), **kwargs)

    async def friends(self, user_id: str) -> list[str]:
        return await self._members(names.friends_key(user_id))

    async def followers(self, user_id: str) -> list[str]:
        return await self._members(names.followers_key(user_id))

    async def _members(self, key: str) -> list[str]:
        found: Any = await call(lambda: self._redis.smembers(key))
        return sorted(m.decode() for m in found)

    async def replace_friends(self, user_id: str, friends: Sequence[str], *, mode: str = "") -> None:
        """`mode` only for a joining shard (podium/social/grow.py): "mark" or "fill"."""
        args: list[str | int] = [names.SOCIAL_PREFIX, self._cap, user_id, mode, *friends]
        await call(lambda: self._replace(args=args))
        await wait_for_replicas(self._redis, self._wait_replicas, self._wait_timeout_ms, "social index")

    async def apply(self, board: Board, totals: Sequence[Total]) -> list[Total]:
        newest = newest_per_user(totals)
        if not newest:
            return []
        rows = []
        for t in newest:
            mem, removed = member(board, t), str(int(not t.ranked))
            rows.append(
                [t.user_id, t.version, state_of(board, t, mem), removed, str(zscore(board.order, t.total)), mem]
            )
        if not self._followed_known:
            await self._learn_followed()
        args: list[str | bytes] = [names.SOCIAL_PREFIX, board.name, orjson.dumps(rows)]
        applied, known = await call(lambda: self._apply(args=args))
        self._followed_known = known == 1
        await wait_for_replicas(self._redis, self._wait_replicas, self._wait_timeout_ms, "social index")
        return [newest[i - 1] for i in applied]

    async def _learn_followed(self) -> None:
        """A few steps of filling the followed set from the follower sets a version before
        this one wrote without it (a SCAN, resumed where the last apply left it), and once the
        whole keyspace is through, the mark that it is whole. Friend-list changes keep the set
        from then on (and during the scan: what the scan misses they wrote themselves); a
        set naming a user who lost their last follower meanwhile only costs that user a read."""
        if await call(lambda: self._redis.exists(names.followed_known_key())):
            self._followed_known = True
            return
        prefix = names.followers_key("")[:-2]  # "...:followers:", the user in braces after it
        for _ in range(_LEARN_STEPS):
            found: Any = await call(
                lambda: self._redis.scan(self._followed_cursor, match=prefix + "*", count=_LEARN_KEYS)
            )
            cursor, keys = found
            await self._mark_followed([k.decode()[len(prefix) + 1 : -1] for k in keys])
            self._followed_cursor = int(cursor)
            if self._followed_cursor == 0:
                await call(lambda: self._redis.set(names.followed_known_key(), 1))
                self._followed_known = True
                return

    async def _mark_followed(self, users: list[str]) -> None:
        if users:
            await call(lambda: self._redis.sadd(names.followed_key(), *users))

    async def friends_board(self, board: Board, user_id: str, count: int) -> list[FriendEntry]:
        args: list[str | int] = [names.SOCIAL_PREFIX, board.name, user_id, count]
        pre, live = await call(lambda: self._read(args=args))
        # (score, member) sorts as Redis orders a sorted set: the rank order.
        keys = [(int(pre[i + 1]), m) for i in range(0, len(pre), 2) if user_of(m := pre[i].decode()) != user_id]
        for raw in live:
            _, removed, mem, score = raw.decode().split("|")
            if removed == "0":
                keys.append((int(score), mem))
        keys.sort()
        return [FriendEntry(i + 1, user_of(m), zscore(board.order, s)) for i, (s, m) in enumerate(keys[:count])]

    async def reset_board(self, board: Board, user_id: str) -> None:
        args: list[str] = [names.SOCIAL_PREFIX, board.name, user_id]
        await call(lambda: self._reset(args=args))
        await wait_for_replicas(self._redis, self._wait_replicas, self._wait_timeout_ms, "social index")

    async def close(self) -> None:
        await self._redis.aclose()
