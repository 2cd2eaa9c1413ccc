-- KEYS: a sorted set, its trim mark. ARGV: the reader's map epoch, the segment's lower bound
-- (score, member; '' for open), first and last position within the segment. The members there
-- with scores; false if the set was trimmed for a newer map. Positions count from the bound as
-- it is now: the mover may have added members below it since the reader counted.
if tonumber(redis.call('GET', KEYS[2]) or '0') > tonumber(ARGV[1]) then return false end
local below = 0
if ARGV[2] ~= '' then below = count_lt(KEYS[1], ARGV[2], ARGV[3]) end
return redis.call('ZRANGE', KEYS[1], below + tonumber(ARGV[4]), below + tonumber(ARGV[5]), 'WITHSCORES')
