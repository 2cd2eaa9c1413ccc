-- KEYS: users, group sizes, groups. ARGV: dense sign (as in commit.lua), then per user:
-- user, state ('' to forget the user). The reconciler's unconditional write of states.
local sign = ARGV[1]
for i = 2, #ARGV, 2 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  if sign ~= '' then regroup(KEYS[2], KEYS[3], sign, current, ARGV[i + 1]) end
  if ARGV[i + 1] == '' then
    redis.call('HDEL', KEYS[1], ARGV[i])
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 1
