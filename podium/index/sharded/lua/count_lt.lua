-- Lua helper: how many members of sorted set `key` sort before (score, member).
-- Members with a lower score are ZCOUNTed; among equal scores (ordered by member bytes) a
-- binary search finds the place, each probe a ZRANGE by rank: O(log² n). (A probe by
-- `BYSCORE … LIMIT offset 1` walks `offset` members from the first of that score, so on a
-- board of many ties, where a bucket's bound sits in a group of thousands, each count cost
-- thousands of steps: most of the mover's Redis time.)
local function count_lt(key, score, mem)
  -- A bucket's bounds were members when it was cut, and mostly still are: then ZRANK.
  local at = redis.call('ZSCORE', key, mem)
  if at and tonumber(at) == tonumber(score) then return redis.call('ZRANK', key, mem) end
  local n = redis.call('ZCOUNT', key, '-inf', '(' .. score)
  local lo, hi = 0, redis.call('ZCOUNT', key, score, score)
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local at = redis.call('ZRANGE', key, n + mid, n + mid)[1]
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
