-- KEYS: per op a sorted set and its fence. ARGV: the writer's map epoch, then per op:
-- 'a' (add) or 'r' (remove), member, score. Refuses (returns 0) before changing anything if
-- any touched set's fence is newer than the writer's map.
local epoch = tonumber(ARGV[1])
for i = 2, #KEYS, 2 do
  local fence = tonumber(redis.call('GET', KEYS[i]) or '0')
  if fence > epoch then return 0 end
end
-- Per set, one ZREM and one ZADD of many members (see each.lua), removals first: a user's own
-- old member goes before its new one, and members hold the user id, so no other user's
-- removal meets an addition.
local gone, added, sets = {}, {}, {}
for i = 1, #KEYS, 2 do
  local key = KEYS[i]
  if not gone[key] then
    gone[key], added[key] = {}, {}
    sets[#sets + 1] = key
  end
  local j = (i - 1) / 2 * 3 + 2
  if ARGV[j] == 'a' then
    local add = added[key]
    add[#add + 1] = ARGV[j + 2]
    add[#add + 1] = ARGV[j + 1]
  else
    local drop = gone[key]
    drop[#drop + 1] = ARGV[j + 1]
  end
end
for _, key in ipairs(sets) do
  each('ZREM', key, gone[key])
  each('ZADD', key, added[key])
end
return 1
