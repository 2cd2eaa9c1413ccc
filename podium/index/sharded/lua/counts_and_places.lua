-- KEYS, ARGV: as counts.lua, then per wanted member: the number of its segment in this call
-- (1-based), its score, the member. Returns false if a set was trimmed for a newer map;
-- else per segment its in-range count and members below its range, then per wanted member
-- its position in its segment's range (where it would sort, if it is not there).
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
