-- KEYS: writers, users, map, writes, pending, group sizes, groups. ARGV: writer id, map epoch,
-- dense sign ('' unless the board has dense ties; see groups.lua), then the batch as JSON: per
-- user [user, expected version (-1: none), new state, bucket id ('' if removed)]. Returns -1 if the
-- lease lapsed or the map changed; else {0, then per user another writer committed first:
-- user, its state} — the members this attempt added for those users are strays to remove.
local lease = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
if not lease then return -1 end
local current_map = redis.call('GET', KEYS[3])
if not current_map or not string.find(current_map, '"epoch":' .. ARGV[2] .. ',', 1, true) then return -1 end
local refused = {0}
local sign = ARGV[3]
local writes = {}  -- per bucket: one HINCRBY each, not one a user
for _, u in ipairs(cjson.decode(ARGV[4])) do
  local current = redis.call('HGET', KEYS[2], u[1])
  local version = -1
  if current then version = tonumber(string.match(current, '^(%d+)|')) end
  if version == u[2] then
    if sign ~= '' then regroup(KEYS[6], KEYS[7], sign, current, u[3]) end
    redis.call('HSET', KEYS[2], u[1], u[3])
    redis.call('HDEL', KEYS[5], u[1])
    if u[4] ~= '' then writes[u[4]] = (writes[u[4]] or 0) + 1 end
  else
    refused[#refused + 1] = u[1]
    refused[#refused + 1] = current or ''
  end
end
for bucket, n in pairs(writes) do redis.call('HINCRBY', KEYS[4], bucket, n) end
redis.call('EXPIRE', KEYS[4], 60)
return refused
