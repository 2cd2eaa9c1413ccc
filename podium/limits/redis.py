"""The limits in Redis, shared by every api process: Lua scripts on bare connections
(podium/index/script_runner.py), timed by the Redis server's clock so that processes whose
clocks differ still count alike. Concurrent requests' rate checks share one script call
(group commit): a check a request was a round trip and a script of its own, 14 % of the
api's CPU under single submissions."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from podium.domain.limits import Rate
from podium.index.script_runner import ScriptRunner, sha1
from podium.plumbing import names

# KEYS: each check's name's state (its TAT in ms), in the order the checks came; the same
# name may come more than once. ARGV: per key, the interval in ms and the burst. Answers,
# per key, 0 (allowed, counted) or the wait in whole ms: each check sees the ones before it,
# as if each were a script call of its own.
TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local waits = {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local tat = tonumber(redis.call('GET', KEYS[i])) or now
  if tat < now then tat = now end
  local new_tat = tat + interval
  local allowed_at = new_tat - interval * tonumber(ARGV[2 * i])
  if allowed_at > now then
    waits[i] = math.ceil(allowed_at - now)
  else
    redis.call('SET', KEYS[i], string.format('%.3f', new_tat), 'PX', math.max(1, math.ceil(new_tat - now)))
    waits[i] = 0
  end
end
return waits
"""

# KEYS: one sorted set a user (submission id → when counted, ms). ARGV: the window in ms,
# the limit, then per key the number of its ids and the ids. Counts every key's new ids
# or none: answers, flat, (key's number, 1-based position of its first id past the
# limit) for each key that would go past it.
RECORD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local over = {}
local fresh = {}
local at = 3
for k = 1, #KEYS do
  local n = tonumber(ARGV[at])
  local count = redis.call('ZCARD', KEYS[k])
  if count + n > limit then  -- the set may hold ids the window has left: count only the others
    redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', now - window)
    count = redis.call('ZCARD', KEYS[k])
  end
  local new = {}
  local taken = {}
  for p = 1, n do
    local id = ARGV[at + p]
    if not taken[id] and (count == 0 or not redis.call('ZSCORE', KEYS[k], id)) then
      taken[id] = true
      new[#new + 1] = now
      new[#new + 1] = id
      if count + #new / 2 > limit then
        over[#over + 1] = k
        over[#over + 1] = p
        break
      end
    end
  end
  fresh[k] = new
  at = at + n + 1
end
if #over > 0 then return over end
for k = 1, #KEYS do
  if #fresh[k] > 0 then redis.call('ZADD', KEYS[k], unpack(fresh[k])) end
  redis.call('PEXPIRE', KEYS[k], window)
end
return over
"""

MAX_CONNECTIONS = 64


# Checks a script call takes at most: a group of that many runs well under a millisecond.
MAX_GROUP = 500

Check = tuple[str, Rate, "asyncio.Future[float]"]


class RedisRateLimiter:
    """Checks arriving while a script call is out wait for the next one and go in it
    together, in the order they came: one round trip for them all (as the log's group
    commit does for appends). Each request still waits for its own answer from Redis."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._runner = ScriptRunner(client, MAX_CONNECTIONS)
        self._sha = sha1(TAKE)
        self._waiting: list[Check] = []
        self._sender: asyncio.Task[None] | None = None

    async def take(self, name: str, rate: Rate) -> float:
        if rate.unlimited:
            return 0.0
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting.append((name, rate, future))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send())
        return await future

    async def _send(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
            keys = [names.rate_key(name) for name, _, _ in group]
            args: list[Any] = []
            for _, rate, _ in group:
                args += [repr(1000.0 * rate.interval_s), max(rate.burst, 1)]
            try:
                waits_ms = await self._runner.run(TAKE, self._sha, keys, args)
            except Exception as exc:  # every check of the group learns it failed
                for _, _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, _, future), wait_ms in zip(group, waits_ms, strict=True):
                if not future.done():  # its request was cancelled meanwhile
                    future.set_result(int(wait_ms) / 1000.0)

    async def close(self) -> None:
        if self._sender is not None:
            await asyncio.gather(self._sender, return_exceptions=True)
        await self._runner.close()
        await self._client.aclose()


class RedisSubmissionCounter:
    def __init__(self, client: Any) -> None:
        self._client = client
        self._runner = ScriptRunner(client, MAX_CONNECTIONS)
        self._sha = sha1(RECORD)

    async def record(
        self, board: str, submissions: Mapping[str, Sequence[str]], limit: int, window_s: float
    ) -> dict[str, int]:
        users = list(submissions)
        args: list[Any] = [int(window_s * 1000), limit]
        for user in users:
            args += [len(submissions[user]), *submissions[user]]
        keys = [names.submissions_key(board, user) for user in users]
        over = await self._runner.run(RECORD, self._sha, keys, args)
        return {users[int(k) - 1]: int(p) - 1 for k, p in zip(over[::2], over[1::2], strict=True)}

    async def close(self) -> None:
        await self._runner.close()
        await self._client.aclose()
