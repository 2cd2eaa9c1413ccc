-- KEYS: per op a sorted set and its fence. ARGV: the writer's map epoch, then per op:
-- 'a' (add) or 'r' (remove), member, score. Refuses (returns 0) before changing anything if
-- any touched set's fence is newer than the writer's map.
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
