-- KEYS: the sorted sets this batch changes on this shard, then each one's fence, in the same
-- order. ARGV: the writer's map epoch, then the ops as rows (see each.lua): per op set (its
-- place among the sets, from 1), 'a' (add) or 'r' (remove), score, member. Refuses (returns 0)
-- before changing anything if any touched set's fence is newer than the writer's map. Each
-- set and fence is named once, not once an op: a batch touches a few sets, a thousand times.
local epoch = tonumber(ARGV[1])
local sets = #KEYS / 2
for i = sets + 1, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > epoch then return 0 end
end
-- Per set, one ZREM and one ZADD of many members (see each.lua), removals first: a user's own
-- old member goes before its new one, and members hold the user id, so no other user's
-- removal meets an addition.
local gone, added = {}, {}
for i = 1, sets do gone[i], added[i] = {}, {} end
for set, op, score, mem in string.gmatch(ARGV[2], '(%d+)\t(%a)\t([^\t]*)\t([^\n]*)') do
  set = tonumber(set)
  if op == 'a' then
    local add = added[set]
    add[#add + 1] = score
    add[#add + 1] = mem
  else
    local drop = gone[set]
    drop[#drop + 1] = mem
  end
end
for i = 1, sets do
  each('ZREM', KEYS[i], gone[i])
  each('ZADD', KEYS[i], added[i])
end
return 1
