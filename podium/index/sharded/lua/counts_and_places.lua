-- KEYS, ARGV: as counts.lua, then per wanted member: the number of its segment in this call
-- (1-based), its score, the member. Returns false if a set was trimmed for a newer map;
-- else per segment its in-range count and members below its range, then per wanted member
-- its position in its segment's range (where it would sort, if it is not there).
local n = #KEYS / 2
local result, below = segment_counts(tonumber(ARGV[1]), n)
if not result then return false end
for k = n * 4 + 2, #ARGV, 3 do
  local seg = tonumber(ARGV[k])
  local key = KEYS[2 * seg - 1]
  local rank = redis.call('ZRANK', key, ARGV[k + 2])
  if not rank then rank = count_lt(key, ARGV[k + 1], ARGV[k + 2]) end
  result[#result + 1] = rank - below[seg]
end
return result
