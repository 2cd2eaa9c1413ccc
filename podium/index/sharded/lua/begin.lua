-- KEYS: split lock, writers, users, map, pending, the board's change number. ARGV: writer id,
-- lease ms, then the batch as JSON: per user [user, version, 'score|member' of the member the
-- write will add ('' for a removal)]. Returns the map, each user's state and the member an earlier, uncommitted attempt
-- may have added (to be removed now), and records this attempt's member in its place. The
-- change number rises before any member moves; the lease then marks the board busy until the
-- commit, so a reader never keeps counts taken while this batch is under way.
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
raise_changes(KEYS[6], now_ms)
redis.call('ZADD', KEYS[2], now_ms + tonumber(ARGV[2]), ARGV[1])
local batch = cjson.decode(ARGV[3])
local users = {}
for i, u in ipairs(batch) do users[i] = u[1] end
local got = hmget_all(KEYS[3], users)
-- Members recorded by an attempt not yet committed (or that died): rare, looked up only then.
local recorded = {}
if redis.call('HLEN', KEYS[5]) > 0 then recorded = hmget_all(KEYS[5], users) end
local states, pending, record = {}, {}, {}
for i, u in ipairs(batch) do
  local current = got[i]
  states[i] = current or ''
  pending[i] = recorded[i] or ''
  local version = -1
  if current then version = tonumber(string.match(current, '^(%d+)|')) end
  if u[2] > version and u[3] ~= '' then
    record[#record + 1] = u[1]
    record[#record + 1] = u[3]
  end
end
each('HSET', KEYS[5], record)
return {redis.call('GET', KEYS[4]) or '', states, pending}
