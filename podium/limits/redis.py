"""The limits in Redis, shared by every api process: Lua scripts on bare connections
(podium/index/script_runner.py), timed by the Redis server's clock so that processes whose
clocks differ still count alike. Concurrent requests' rate checks share one script call
(group commit): a check a request was a round trip and a script of its own, 14 % of the
api's CPU under single submissions.

A limit high enough leases its allowance in blocks (`Leases`): a process takes a block of
requests from Redis in one check, counted there at once, and spends it locally for at most
`lease_s`. Then the next block is taken behind the requests: they go on spending what the
old block has left until Redis answers, and what is left then is dropped, never carried (a
name under its limit never waits for Redis: with every request of a name waiting for the
renewal, 128 connections stalled on a round trip every 50 ms, and the waits were 6 % of the
api's loop). So every process still counts against the one limit in Redis, and no name is
ever let through more than Redis counted; a block is spent at most `lease_s` (and the next
block's round trip) after Redis counted it, and one a process may be counted and not spent
(refusals come early by at most a block a process). A limit whose block would be one
request (the address limits' 20 a second) is checked request by request as before."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any

from podium.domain.limits import Rate
from podium.index.script_runner import ScriptRunner, sha1
from podium.limits.memory import SWEEP_GROWTH
from podium.plumbing import names

# KEYS: each check's name's state (its TAT in ms), in the order the checks came; the same
# name may come more than once. ARGV: per key, the interval in ms, the burst and the
# requests wanted (a block). Answers, per key, the requests counted (1 to the wanted, as
# many as the burst allows now; at least 1 if one is allowed) or, if none is allowed, minus
# the wait in whole ms: each check sees the ones before it, as if each were a script call
# of its own.
TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local answers = {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[3 * i - 2])
  local burst = tonumber(ARGV[3 * i - 1])
  local wanted = tonumber(ARGV[3 * i])
  local tat = tonumber(redis.call('GET', KEYS[i])) or now
  if tat < now then tat = now end
  local allowed_at = tat + interval - interval * burst
  if allowed_at > now then
    answers[i] = -math.ceil(allowed_at - now)
  else
    local n = 1
    if wanted > 1 then n = math.max(1, math.min(wanted, math.floor((now - tat) / interval + burst))) end
    local new_tat = tat + interval * n
    redis.call('SET', KEYS[i], string.format('%.3f', new_tat), 'PX', math.max(1, math.ceil(new_tat - now)))
    answers[i] = n
  end
end
return answers
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

# A block is never more than this, nor more than a tenth of the burst: most of a burst
# stays for the other processes.
MAX_BLOCK = 1000

Check = tuple[str, Rate, int, "asyncio.Future[tuple[int, float]]"]


def block_of(rate: Rate, lease_s: float) -> int:
    """The requests a process leases at once for `rate`: what the rate allows in a lease's
    time, at most a tenth of the burst and MAX_BLOCK; 1 (every check to Redis) below that."""
    return max(1, min(MAX_BLOCK, int(rate.per_s * lease_s), rate.burst // 10))


class _Lease:
    """A block of one name's requests, counted in Redis, spent here until `until_s`."""

    __slots__ = ("block", "left", "rate", "refused_until_s", "renewed", "until_s")

    def __init__(self, rate: Rate, block: int) -> None:
        self.rate = rate
        self.block = block  # computed once a name, not once a request
        self.left = 0
        self.until_s = 0.0
        # Redis refused the last block until then: the name's requests are refused here
        # meanwhile (a flood over its limit costs Redis nothing).
        self.refused_until_s = 0.0
        # Set while a new block is being taken: the name's other requests wait for it, or
        # spend what the old block has left (counted in Redis already) until it comes.
        self.renewed: asyncio.Future[None] | None = None


def _quietly(task: asyncio.Future[float]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: the next request that needs Redis meets the fault itself


class RedisRateLimiter:
    """Checks arriving while a script call is out wait for the next one and go in it
    together, in the order they came: one round trip for them all (as the log's group
    commit does for appends). Each request still waits for its own answer from Redis,
    unless its name's limit is leased in blocks (`lease_s` > 0, module docstring)."""

    def __init__(self, client: Any, *, lease_s: float = 0.0) -> None:
        self._client = client
        self._runner = ScriptRunner(client, MAX_CONNECTIONS)
        self._sha = sha1(TAKE)
        self._waiting: list[Check] = []
        self._sender: asyncio.Task[None] | None = None
        self._lease_s = lease_s
        self._leases: dict[str, _Lease] = {}
        self._sweep_at = SWEEP_GROWTH

    async def take(self, name: str, rate: Rate) -> float:
        lease = self._leases.get(name)
        if lease is not None and lease.rate is rate and lease.left > 0:  # the common case, first
            if time.monotonic() < lease.until_s:
                lease.left -= 1
                return 0.0
            if lease.renewed is None:  # run out of time: a new block, taken behind the requests
                self._renew_behind(name, lease)
            lease.left -= 1  # what was counted and not spent, until the new block comes
            return 0.0
        return await self._take_slowly(name, rate)

    async def _take_slowly(self, name: str, rate: Rate) -> float:
        if rate.unlimited:
            return 0.0
        lease = self._leases.get(name)
        if lease is None or lease.rate != rate:
            lease = self._leases[name] = _Lease(rate, block_of(rate, self._lease_s) if self._lease_s > 0 else 1)
        if lease.block == 1:
            return (await self._check(name, rate, 1))[1]
        while True:
            now_s = time.monotonic()
            if lease.left > 0 and (now_s < lease.until_s or lease.renewed is not None):
                lease.left -= 1
                return 0.0
            if now_s < lease.refused_until_s:
                return lease.refused_until_s - now_s
            if lease.renewed is None:
                return await self._renew(name, lease, for_this_request=True)
            await asyncio.shield(lease.renewed)  # then try again: its block may be spent

    def _renew_behind(self, name: str, lease: _Lease) -> None:
        """A new block taken while requests go on spending what the old one has left: a name
        under its limit never waits for Redis. A failure here is met again by the request
        that finds the block spent (and answered as every check's failure is)."""
        task = asyncio.ensure_future(self._renew(name, lease, for_this_request=False))
        task.add_done_callback(_quietly)

    async def _renew(self, name: str, lease: _Lease, *, for_this_request: bool) -> float:
        """A new block for `name` (one of it for the request asking, if it waits); what the
        old block had left is dropped once it comes."""
        renewed = lease.renewed = asyncio.get_running_loop().create_future()
        try:
            counted, wait_s = await self._check(name, lease.rate, lease.block)
            if counted > 0:
                lease.left, lease.until_s = counted - for_this_request, time.monotonic() + self._lease_s
            else:
                lease.left, lease.refused_until_s = 0, time.monotonic() + wait_s
            return wait_s
        finally:
            lease.renewed = None
            renewed.set_result(None)
            self._sweep()

    def _sweep(self) -> None:
        if len(self._leases) > self._sweep_at:
            now_s = time.monotonic()
            kept = self._leases.items()
            self._leases = {n: x for n, x in kept if max(x.until_s, x.refused_until_s) > now_s or x.renewed}
            self._sweep_at = len(self._leases) + SWEEP_GROWTH

    def _check(self, name: str, rate: Rate, wanted: int) -> asyncio.Future[tuple[int, float]]:
        """(requests counted, 0.0), or (0, seconds to wait) if none is allowed."""
        future: asyncio.Future[tuple[int, float]] = asyncio.get_running_loop().create_future()
        self._waiting.append((name, rate, wanted, future))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send())
        return future

    async def _send(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
            keys = [names.rate_key(name) for name, _, _, _ in group]
            args: list[Any] = []
            for _, rate, wanted, _ in group:
                args += [repr(1000.0 * rate.interval_s), max(rate.burst, 1), wanted]
            try:
                answers = await self._runner.run(TAKE, self._sha, keys, args)
            except Exception as exc:  # every check of the group learns it failed
                for _, _, _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, _, _, future), answer in zip(group, answers, strict=True):
                if not future.done():  # its request was cancelled meanwhile
                    counted = int(answer)
                    future.set_result((counted, 0.0) if counted > 0 else (0, -counted / 1000.0))

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
