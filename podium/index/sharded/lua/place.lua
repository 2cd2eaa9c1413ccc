-- KEYS: the sorted set of a bucket in transit, its fence. ARGV: the new map epoch, the range of
-- the transit's part still in the old set (as in counts.lua), then member, score pairs: the batch the
-- mover carries. No member of that range belongs in this set yet, so any found there was copied
-- by a mover that died before moving the cursor (it may since have changed in the old set): it
-- goes, then the batch comes in, behind the raised fence.
local count, below = count_range(KEYS[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
if count > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], below, below + count - 1) end
redis.call('SET', KEYS[2], ARGV[1])
-- One ZADD of many members (see each.lua), not one a member: each call costs the primary, and
-- the replica replaying it, more than its work.
local added = {}
for i = 6, #ARGV, 2 do
  added[#added + 1] = ARGV[i + 1]
  added[#added + 1] = ARGV[i]
end
each('ZADD', KEYS[1], added)
return count
