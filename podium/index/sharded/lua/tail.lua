-- KEYS: a sorted set. ARGV: a range (as in counts.lua), how many. The last `how many` members
-- (with scores) of the set within the range: what the mover carries next.
local count, below = count_range(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
if count == 0 then return {} end
local last = below + count - 1
local first = math.max(below, last - tonumber(ARGV[5]) + 1)
return redis.call('ZRANGE', KEYS[1], first, last, 'WITHSCORES')
