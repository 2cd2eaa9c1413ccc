-- KEYS: writers, users, map, writes, intents, group sizes, groups, the board's change number.
-- ARGV: writer id, map epoch, dense sign ('' unless the board has dense ties; see groups.lua),
-- the batch as rows (see each.lua): per user user, expected version (-1: none), bucket id (''
-- if removed), new state; then the change number BEGIN returned ('' if another writer held a lease then).
-- If that number is still the board's, nothing has written a state since the begin (every
-- other begin and every one-bucket write raises it; a repair runs only under the board's lock,
-- which waits for this lease and drops it once lapsed), so the expected versions are the
-- stored ones: the states are not read again (one HMGET and a parse a user). Returns -1 if the
-- lease lapsed or the map changed (the intent stays, for the next begin to clean); else {0,
-- then per user another writer committed first: user, its state} — the members this attempt
-- added for those users are strays to remove: the intent stays until they are.
local lease = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
if not lease then return -1 end
local current_map = redis.call('GET', KEYS[3])
if not current_map or not string.find(current_map, '"epoch":' .. ARGV[2] .. ',', 1, true) then return -1 end
local refused = {0}
local sign = ARGV[3]
local writes = {}  -- per bucket: one HINCRBY each, not one a user
local users, expected, buckets, states, n = {}, {}, {}, {}, 0
for user, version, bucket, st in string.gmatch(ARGV[4], '([^\t\n]+)\t(-?%d+)\t(%d*)\t([^\n]*)') do
  n = n + 1
  users[n], expected[n], buckets[n], states[n] = user, tonumber(version), bucket, st
end
local alone = ARGV[5] ~= '' and sign == '' and redis.call('GET', KEYS[8]) == ARGV[5]
local got = {}
if not alone then got = hmget_all(KEYS[2], users) end
local stored = {}
for i = 1, n do
  local current = got[i]
  local version = -1
  if alone then
    version = expected[i]
  elseif current then
    version = tonumber(string.match(current, '^(%d+)|'))
  end
  if version == expected[i] then
    if sign ~= '' then regroup(KEYS[6], KEYS[7], sign, current, states[i]) end
    stored[#stored + 1] = users[i]
    stored[#stored + 1] = states[i]
    local bucket = buckets[i]
    if bucket ~= '' then writes[bucket] = (writes[bucket] or 0) + 1 end
  else
    refused[#refused + 1] = users[i]
    refused[#refused + 1] = current or ''
  end
end
-- Each user once in a batch: storing them all after reading them all is the same.
each('HSET', KEYS[2], stored)
if #refused == 1 then redis.call('HDEL', KEYS[5], ARGV[1]) end
for bucket, n in pairs(writes) do redis.call('HINCRBY', KEYS[4], bucket, n) end
redis.call('EXPIRE', KEYS[4], 60)
return refused
