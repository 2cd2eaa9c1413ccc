"""The Lua scripts of the sharded rank index (`index/sharded.py`), one per step that
must be atomic on one shard. Each says what its KEYS and ARGV are and what it returns;
the module docstring of `index/sharded.py` says how they fit together."""

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

# KEYS: per segment its sorted set and the set's trim mark. ARGV: the reader's map epoch, then
# per segment its range (lo score, lo member, hi score, hi member; '' for open), then optionally
# a member whose place in the LAST segment is wanted, its score, and 'p' if it may be a phantom
# (a key no member has: its place is then where it would sort). Returns false if a set was trimmed for a
# newer map than the reader's (it must read again); else per segment its in-range count and how
# many members sit below its range, then (if a member was given) that member's position in
# its segment's range (-1: not there).
COUNTS = (
    COUNT_LT
    + """
local epoch = tonumber(ARGV[1])
local result = {}
local n = #KEYS / 2
local last_below = 0
for i = 1, n do
  local trimmed = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
  if trimmed > epoch then return false end
  local j = (i - 1) * 4 + 1
  local count, below = count_range(KEYS[2 * i - 1], ARGV[j + 1], ARGV[j + 2], ARGV[j + 3], ARGV[j + 4])
  result[2 * i - 1] = count
  result[2 * i] = below
  last_below = below
end
local wanted = ARGV[n * 4 + 2]
if wanted then
  local rank = redis.call('ZRANK', KEYS[2 * n - 1], wanted)
  if not rank and ARGV[n * 4 + 4] == 'p' then rank = count_lt(KEYS[2 * n - 1], ARGV[n * 4 + 3], wanted) end
  if rank then result[2 * n + 1] = rank - last_below else result[2 * n + 1] = -1 end
end
return result
"""
)

# KEYS, ARGV: as COUNTS, then per wanted member: the number of its segment in this call
# (1-based), its score, the member. Returns false if a set was trimmed for a newer map;
# else per segment its in-range count and members below its range, then per wanted member
# its position in its segment's range (where it would sort, if it is not there).
COUNTS_AND_PLACES = (
    COUNT_LT
    + """
local epoch = tonumber(ARGV[1])
local result, below = {}, {}
local n = #KEYS / 2
for i = 1, n do
  local trimmed = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
  if trimmed > epoch then return false end
  local j = (i - 1) * 4 + 1
  local count, under = count_range(KEYS[2 * i - 1], ARGV[j + 1], ARGV[j + 2], ARGV[j + 3], ARGV[j + 4])
  result[2 * i - 1] = count
  result[2 * i] = under
  below[i] = under
end
for k = n * 4 + 2, #ARGV, 3 do
  local seg = tonumber(ARGV[k])
  local key = KEYS[2 * seg - 1]
  local rank = redis.call('ZRANK', key, ARGV[k + 2])
  if not rank then rank = count_lt(key, ARGV[k + 1], ARGV[k + 2]) end
  result[#result + 1] = rank - below[seg]
end
return result
"""
)

# KEYS: a sorted set. ARGV: a range (as in COUNTS), how many. The last `how many` members
# (with scores) of the set within the range: what the mover carries next.
TAIL = (
    COUNT_LT
    + """
local count, below = count_range(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
if count == 0 then return {} end
local last = below + count - 1
local first = math.max(below, last - tonumber(ARGV[5]) + 1)
return redis.call('ZRANGE', KEYS[1], first, last, 'WITHSCORES')
"""
)

# KEYS: the sorted set of a bucket in transit, its fence. ARGV: the new map epoch, the range of
# the transit's part still in the old set (as in COUNTS), then member, score pairs: the batch the
# mover carries. No member of that range belongs in this set yet, so any found there was copied
# by a mover that died before moving the cursor (it may since have changed in the old set): it
# goes, then the batch comes in, behind the raised fence.
PLACE = (
    COUNT_LT
    + """
local count, below = count_range(KEYS[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
if count > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], below, below + count - 1) end
redis.call('SET', KEYS[2], ARGV[1])
for i = 6, #ARGV, 2 do redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i]) end
return count
"""
)

# KEYS: a sorted set, its trim mark. ARGV: the reader's map epoch, the segment's lower bound
# (score, member; '' for open), first and last position within the segment. The members there
# with scores; false if the set was trimmed for a newer map. Positions count from the bound as
# it is now: the mover may have added members below it since the reader counted.
SLICE = (
    COUNT_LT
    + """
if tonumber(redis.call('GET', KEYS[2]) or '0') > tonumber(ARGV[1]) then return false end
local below = 0
if ARGV[2] ~= '' then below = count_lt(KEYS[1], ARGV[2], ARGV[3]) end
return redis.call('ZRANGE', KEYS[1], below + tonumber(ARGV[4]), below + tonumber(ARGV[5]), 'WITHSCORES')
"""
)

# Lua helper: raise a board's change number (names.board_changes_key). It is at least the
# time in ms, so a board dropped and made again never repeats a number a reader kept.
RAISE_CHANGES = """
local function raise_changes(key, now_ms)
  local was = tonumber(redis.call('GET', key) or '0')
  redis.call('SET', key, string.format('%d', math.max(now_ms, was + 1)))
end
"""

# KEYS: split lock, writers, users, map, pending, the board's change number. ARGV: writer id,
# lease ms, then the batch as JSON: per user [user, version, 'score|member' of the member the
# write will add ('' for a removal)]. Returns the map, each user's state and the member an earlier, uncommitted attempt
# may have added (to be removed now), and records this attempt's member in its place. The
# change number rises before any member moves; the lease then marks the board busy until the
# commit, so a reader never keeps counts taken while this batch is under way.
BEGIN = (
    RAISE_CHANGES
    + """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
raise_changes(KEYS[6], now_ms)
redis.call('ZADD', KEYS[2], now_ms + tonumber(ARGV[2]), ARGV[1])
local states, pending = {}, {}
for _, u in ipairs(cjson.decode(ARGV[3])) do
  local current = redis.call('HGET', KEYS[3], u[1])
  states[#states + 1] = current or ''
  pending[#pending + 1] = redis.call('HGET', KEYS[5], u[1]) or ''
  local version = -1
  if current then version = tonumber(string.match(current, '^(%d+)|')) end
  if u[2] > version and u[3] ~= '' then redis.call('HSET', KEYS[5], u[1], u[3]) end
end
return {redis.call('GET', KEYS[4]) or '', states, pending}
"""
)

# KEYS: the board's change number. Raise it (after members changed outside a lease: a
# repair, or strays a writer dropped after its commit).
CHANGED = (
    RAISE_CHANGES
    + """
local now = redis.call('TIME')
raise_changes(KEYS[1], now[1] * 1000 + math.floor(now[2] / 1000))
return 1
"""
)

# KEYS: per op a sorted set and its fence. ARGV: the writer's map epoch, then per op:
# 'a' (add) or 'r' (remove), member, score. Refuses (returns 0) before changing anything if
# any touched set's fence is newer than the writer's map.
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

# Lua helper for dense-tie boards: keep the distinct (total, subscore) pairs of the users in
# the sorted sets, with how many hold each, as a user's state changes from `old` to `new`
# (either nil). `sign` is '-1' on a desc board (the sets' score is -total), else '1'. A
# pair's member in the groups set is its subscore hex (the tie-break above the 16 hex digits
# of time), ':', the score: equal scores then sort by subscore, as members do.
GROUPS = """
local function group_of(st, sign)
  if not st or st == '' then return nil end
  local flag, mem, total = string.match(st, '^%d+|(%d)|([^|]*)|(-?%d+)|')
  if flag ~= '0' then return nil end
  local tie = string.match(mem, '^([^:]*):')
  local score = total
  if sign == '-1' then
    if string.sub(total, 1, 1) == '-' then
      score = string.sub(total, 2)
    elseif total ~= '0' then
      score = '-' .. total
    end
  end
  return score, string.sub(tie, 1, #tie - 16) .. ':' .. score
end
local function regroup(sizes, groups, sign, old, new)
  local os, om = group_of(old, sign)
  local ns, nm = group_of(new, sign)
  if om == nm then return end
  if om then
    if redis.call('HINCRBY', sizes, om, -1) <= 0 then
      redis.call('HDEL', sizes, om)
      redis.call('ZREM', groups, om)
    end
  end
  if nm then
    if redis.call('HINCRBY', sizes, nm, 1) == 1 then redis.call('ZADD', groups, ns, nm) end
  end
end
"""

# KEYS: writers, users, map, writes, pending, group sizes, groups. ARGV: writer id, map epoch,
# dense sign ('' unless the board has dense ties; see GROUPS), then the batch as JSON: per
# user [user, expected version (-1: none), new state, bucket id ('' if removed)]. Returns -1 if the
# lease lapsed or the map changed; else {0, then per user another writer committed first:
# user, its state} — the members this attempt added for those users are strays to remove.
COMMIT = (
    GROUPS
    + """
local lease = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
if not lease then return -1 end
local current_map = redis.call('GET', KEYS[3])
if not current_map or not string.find(current_map, '"epoch":' .. ARGV[2] .. ',', 1, true) then return -1 end
local refused = {0}
local sign = ARGV[3]
local writes = {}  -- per bucket: one HINCRBY each, not one a user
for _, u in ipairs(cjson.decode(ARGV[4])) do
  local current = redis.call('HGET', KEYS[2], u[1])
  local version = -1
  if current then version = tonumber(string.match(current, '^(%d+)|')) end
  if version == u[2] then
    if sign ~= '' then regroup(KEYS[6], KEYS[7], sign, current, u[3]) end
    redis.call('HSET', KEYS[2], u[1], u[3])
    redis.call('HDEL', KEYS[5], u[1])
    if u[4] ~= '' then writes[u[4]] = (writes[u[4]] or 0) + 1 end
  else
    refused[#refused + 1] = u[1]
    refused[#refused + 1] = current or ''
  end
end
for bucket, n in pairs(writes) do redis.call('HINCRBY', KEYS[4], bucket, n) end
redis.call('EXPIRE', KEYS[4], 60)
return refused
"""
)

# The whole write of a batch to a board that is one bucket on its home shard, nothing in
# transit: as it is one script on one shard, it needs neither the lease nor the pending
# members that let BEGIN, MOVE and COMMIT (possibly on several shards) survive a crash
# between them.
# KEYS: split lock, map, users, pending, the bucket's set, its fence, writes (this second),
# writes (the last full second), group sizes, groups, the board's change number. ARGV: the
# writer's map epoch, bucket id, dense sign (see GROUPS), '1' to rank the users applied, then
# the batch as JSON: per user [user, version, state, flag, member, score] (flag as in the state).
# Returns 0 if the board is locked, -1 if the map or the set's fence moved past the writer's
# epoch (either way the general path takes the batch: it waits, and reads the map); else
# {positions (1-based) in the batch of the users applied, their ranks (0 for a removed user;
# a hidden one: where it would sort), members in the set, the bucket's writes in the last
# full second}.
APPLY_SINGLE = (
    COUNT_LT
    + GROUPS
    + RAISE_CHANGES
    + """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local epoch = ARGV[1]
local current_map = redis.call('GET', KEYS[2])
if not current_map or not string.find(current_map, '"epoch":' .. epoch .. ',', 1, true) then return -1 end
if tonumber(redis.call('GET', KEYS[6]) or '0') > tonumber(epoch) then return -1 end
-- Every write raises the board's change number, so no reader keeps a count across it.
local now = redis.call('TIME')
raise_changes(KEYS[11], now[1] * 1000 + math.floor(now[2] / 1000))
local set, sign = KEYS[5], ARGV[3]
local batch = cjson.decode(ARGV[5])
-- A few commands of many arguments, not a few a user: each call costs the primary, and the
-- replica replaying it, more than its work. Members hold the user id, so one user's removal
-- never meets another's addition; a user's own old member goes before its new one.
local function each(command, key, args)  -- Lua's stack takes a bounded number at a time
  for first = 1, #args, 1000 do redis.call(command, key, unpack(args, first, math.min(first + 999, #args))) end
end
local users = {}
for i, u in ipairs(batch) do users[i] = u[1] end
local states = {}
for first = 1, #users, 1000 do
  local got = redis.call('HMGET', KEYS[3], unpack(users, first, math.min(first + 999, #users)))
  for j, st in ipairs(got) do states[first + j - 1] = st end
end
-- Members recorded by a general-path attempt that never committed: rare, looked up only then.
local pending = redis.call('HLEN', KEYS[4]) > 0
local applied, gone, added, stored, strays = {}, {}, {}, {}, {}
for i, u in ipairs(batch) do
  local current = states[i]
  local newer = true
  if current then
    local v, f, m = string.match(current, '^(%d+)|(%d)|([^|]*)|')
    if tonumber(v) >= u[2] then newer = false elseif f == '0' then gone[#gone + 1] = m end
  else
    current = nil
  end
  if newer then
    if pending then
      local stray = redis.call('HGET', KEYS[4], u[1])
      if stray then
        gone[#gone + 1] = string.match(stray, '^[^|]*|(.*)$')
        strays[#strays + 1] = u[1]
      end
    end
    if u[4] == '0' then
      added[#added + 1] = u[6]
      added[#added + 1] = u[5]
    end
    if sign ~= '' then regroup(KEYS[9], KEYS[10], sign, current, u[3]) end
    stored[#stored + 1] = u[1]
    stored[#stored + 1] = u[3]
    applied[#applied + 1] = i
  end
end
each('ZREM', set, gone)
each('ZADD', set, added)
each('HSET', KEYS[3], stored)
each('HDEL', KEYS[4], strays)
if #added > 0 then
  redis.call('HINCRBY', KEYS[7], ARGV[2], #added / 2)
  redis.call('EXPIRE', KEYS[7], 60)
end
local ranks = {}
if ARGV[4] == '1' then  -- after the whole batch: each rank as a read right after it sees it
  for j, i in ipairs(applied) do
    local u = batch[i]
    local rank = 0
    if u[4] == '0' then
      rank = redis.call('ZRANK', set, u[5]) + 1
    elseif u[4] == '2' then
      rank = count_lt(set, u[6], u[5]) + 1
    end
    ranks[j] = rank
  end
end
local last = tonumber(redis.call('HGET', KEYS[8], ARGV[2]) or '0')
return {applied, ranks, redis.call('ZCARD', set), last}
"""
)

# KEYS: users, pending, group sizes, groups. ARGV: dense sign (as in COMMIT), then per user:
# user, state ('' to forget the user). The reconciler's unconditional write of states.
RECORD = (
    GROUPS
    + """
local sign = ARGV[1]
for i = 2, #ARGV, 2 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  if sign ~= '' then regroup(KEYS[3], KEYS[4], sign, current, ARGV[i + 1]) end
  if ARGV[i + 1] == '' then
    redis.call('HDEL', KEYS[1], ARGV[i])
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
  redis.call('HDEL', KEYS[2], ARGV[i])
end
return 1
"""
)

# KEYS: the groups set. ARGV: score, member of a pair. How many pairs sort before it.
GROUPS_BEFORE = (
    COUNT_LT
    + """
return count_lt(KEYS[1], ARGV[1], ARGV[2])
"""
)

# The board's lock (splits, mover batches) expires unless its holder renews it: a
# holder that dies blocks the board's writers for at most this long.
LOCK_TTL_MS = 3000

# KEYS: the board's lock. ARGV: holder, ttl ms. Renew it if still ours.
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

# KEYS: the board's map, its lock. ARGV: the holder's token, the epoch of the map the holder
# read, the new map. A mover or split that stalled past its lock (a lost connection, a
# paused process) must not put a map over one that writers already wrote under: the map
# changes only while this very hold owns the lock and the map is still the one it read.
SET_MAP = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
local current = redis.call('GET', KEYS[1])
if not current or not string.find(current, '"epoch":' .. ARGV[2] .. ',', 1, true) then return 0 end
redis.call('SET', KEYS[1], ARGV[3])
return 1
"""

# KEYS: the board's lock. ARGV: holder. Release it if still ours.
UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: writers. How many leases are still live (expired ones are dropped).
LIVE_LEASES = """
local now = redis.call('TIME')
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now[1] * 1000 + math.floor(now[2] / 1000))
return redis.call('ZCARD', KEYS[1])
"""

# -- reads in one script a shard ------------------------------------------------------------
# The reader keeps the board's map from its last read and sends its epoch; the home shard's
# script answers only if that map is still the current one (else it returns the map, and the
# reader starts over with it). Its own sets are counted in the same script; the other shards'
# are counted under the same map, their trim marks checked as in COUNTS.

# Lua helpers: `sorted_score` is a total as the sets hold it (sign '-1' on a desc board: see
# GROUPS); `holds` says if a segment's range (lo, hi; '' for open) holds a key; `place_of` is a
# key's position in a segment of `set` from its lower bound: its member's, or (`phantom`) where
# it would sort, or -2 if the member is not there (between a write's steps).
PLACE_OF = (
    COUNT_LT
    + """
local function sorted_score(total, sign)
  if sign ~= '-1' or total == '0' then return total end
  if string.sub(total, 1, 1) == '-' then return string.sub(total, 2) end
  return '-' .. total
end
local function before(s1, m1, s2, m2)
  s1, s2 = tonumber(s1), tonumber(s2)
  return s1 < s2 or (s1 == s2 and m1 < m2)
end
local function holds(lo_s, lo_m, hi_s, hi_m, score, mem)
  return (lo_s == '' or not before(score, mem, lo_s, lo_m)) and (hi_s == '' or before(score, mem, hi_s, hi_m))
end
local function place_of(set, lo_s, lo_m, score, mem, phantom)
  local below = 0
  if lo_s ~= '' then below = count_lt(set, lo_s, lo_m) end
  local at = redis.call('ZRANK', set, mem)
  if not at and phantom then at = count_lt(set, score, mem) end
  if at then return at - below end
  return -2
end
"""
)

# Lua helper: the board's change number ('' for none yet) and 1 if the board is quiet (no live
# writer lease, no lock: no batch, mover step or repair under way), else 0.
CHANGES = """
local function board_changes(changes, writers, lock)
  local now = redis.call('TIME')
  local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
  local quiet = 0
  if redis.call('ZCOUNT', writers, '(' .. now_ms, '+inf') == 0 and redis.call('EXISTS', lock) == 0 then quiet = 1 end
  return redis.call('GET', changes) or '', quiet
end
"""

# KEYS: users, map, the board's change number, writers, lock, then the home shard's segments'
# sets (in rank order). ARGV: user, the reader's map epoch ('' for none), the board's sign ('-1'
# desc, '1' asc), the change number the reader's counts were taken at ('' for none), then per set
# its range (as in COUNTS). Returns {''} for an unknown user or board; {state} when the user is
# not ranked; {state, map} when the reader's map is not the current one; else {state, '', change
# number, quiet, place (see place_of; -1: the user's segment is not here), 1 if counted}, then
# (counted: unless the reader's counts are still good — same change number, quiet) every set's
# in-range count.
ENTRY_HOME = (
    PLACE_OF
    + CHANGES
    + """
local st = redis.call('HGET', KEYS[1], ARGV[1])
local map = redis.call('GET', KEYS[2])
if not st or not map then return {''} end
if ARGV[2] == '' or not string.find(map, '"epoch":' .. ARGV[2] .. ',', 1, true) then return {st, map} end
local flag, mem, total = string.match(st, '^%d+|(%d)|([^|]*)|(-?%d+)|')
if flag == '1' then return {st} end
local score = sorted_score(total, ARGV[3])
local changes, quiet = board_changes(KEYS[3], KEYS[4], KEYS[5])
local kept = quiet == 1 and changes ~= '' and changes == ARGV[4]
local result = {st, '', changes, quiet, -1, 1}
if kept then result[6] = 0 end
for i = 6, #KEYS do
  local j = (i - 6) * 4 + 5
  local lo_s, lo_m, hi_s, hi_m = ARGV[j], ARGV[j + 1], ARGV[j + 2], ARGV[j + 3]
  if holds(lo_s, lo_m, hi_s, hi_m, score, mem) then
    result[5] = place_of(KEYS[i], lo_s, lo_m, score, mem, flag == '2')
  end
  if not kept then result[#result + 1] = count_range(KEYS[i], lo_s, lo_m, hi_s, hi_m) end
end
return result
"""
)

# KEYS: a shard's segments' sets, then their trim marks. ARGV: the reader's map epoch, a key's
# score and member ('' '' for none), 'p' if the key may be a phantom, then per set its range.
# Returns false if a set was trimmed for a newer map than the reader's; else {the key's place
# (see place_of; -1: its segment is not here), then every set's in-range count}.
SHARD_COUNTS = (
    PLACE_OF
    + """
local n = #KEYS / 2
local result = {-1}
for i = 1, n do
  if tonumber(redis.call('GET', KEYS[n + i]) or '0') > tonumber(ARGV[1]) then return false end
  local j = (i - 1) * 4 + 5
  local lo_s, lo_m, hi_s, hi_m = ARGV[j], ARGV[j + 1], ARGV[j + 2], ARGV[j + 3]
  if ARGV[2] ~= '' and holds(lo_s, lo_m, hi_s, hi_m, ARGV[2], ARGV[3]) then
    result[1] = place_of(KEYS[i], lo_s, lo_m, ARGV[2], ARGV[3], ARGV[4] == 'p')
  end
  result[i + 1] = count_range(KEYS[i], lo_s, lo_m, hi_s, hi_m)
end
return result
"""
)

# KEYS: a segment's set, its trim mark. ARGV: the reader's map epoch, the segment's lower bound
# (score, member; '' for open), a key's score and member, 'p' if it may be a phantom. Returns
# false if the set was trimmed for a newer map than the reader's; else the key's place.
PLACE_IN = (
    PLACE_OF
    + """
if tonumber(redis.call('GET', KEYS[2]) or '0') > tonumber(ARGV[1]) then return false end
return place_of(KEYS[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6] == 'p')
"""
)

# KEYS: map, details flag, the board's change number, writers, lock, then the home shard's
# segments' sets. ARGV: the reader's map epoch, the change number its counts were taken at
# ('' for none), then per set its range. Returns {map} if the reader's map is not the current
# one; else {'', 1 if any user has details else 0, change number, quiet, 1 if counted}, then
# (counted: unless the reader's counts are still good) every set's in-range count.
COUNTS_HOME = (
    COUNT_LT
    + CHANGES
    + """
local map = redis.call('GET', KEYS[1]) or ''
if ARGV[1] == '' or not string.find(map, '"epoch":' .. ARGV[1] .. ',', 1, true) then return {map} end
local changes, quiet = board_changes(KEYS[3], KEYS[4], KEYS[5])
local result = {'', redis.call('EXISTS', KEYS[2]), changes, quiet, 0}
if quiet == 1 and changes ~= '' and changes == ARGV[2] then return result end
result[5] = 1
for i = 6, #KEYS do
  local j = (i - 6) * 4 + 2
  result[#result + 1] = count_range(KEYS[i], ARGV[j + 1], ARGV[j + 2], ARGV[j + 3], ARGV[j + 4])
end
return result
"""
)
