-- KEYS: split lock, writers, users, map, intents, the board's change number. ARGV: writer id,
-- lease ms, the batch as JSON: per user [user, version, 'score|member' of the member the write
-- will add ('' for a removal)] (the intent, stored as it is, never decoded here), then the
-- batch's users, a line each (see each.lua). Returns false if the board is locked; 0 if an attempt
-- that never committed left its intent (a writer with no lease, or this writer's own earlier
-- attempt): the writer cleans those under the board's lock, then begins again. Else it takes a
-- lease, records the batch as this writer's intent (one field, not one a user: a crash between
-- move and commit leaves the members it names to be found), and returns the map, each user's
-- state, and the board's change number as this begin raised it if no other writer holds a lease
-- entry, live or lapsed ('' if one does): while that number stays, no other writer has begun and
-- no one-bucket write has run, so the states read here are still the ones stored and the commit
-- need not read them again. The change number rises before any member moves; the lease then
-- marks the board busy until the commit, so a reader never keeps counts taken while this batch
-- is under way.
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
if redis.call('HLEN', KEYS[5]) > 0 then
  for _, writer in ipairs(redis.call('HKEYS', KEYS[5])) do
    local lease = tonumber(redis.call('ZSCORE', KEYS[2], writer) or '0')
    if writer == ARGV[1] or lease < now_ms then
      redis.call('ZREM', KEYS[2], ARGV[1])
      return 0
    end
  end
end
raise_changes(KEYS[6], now_ms)
redis.call('ZADD', KEYS[2], now_ms + tonumber(ARGV[2]), ARGV[1])
local alone = ''
if redis.call('ZCARD', KEYS[2]) == 1 then alone = redis.call('GET', KEYS[6]) end
redis.call('HSET', KEYS[5], ARGV[1], ARGV[3])
local users, n = {}, 0
for user in string.gmatch(ARGV[4], '[^\n]+') do
  n = n + 1
  users[n] = user
end
return {redis.call('GET', KEYS[4]) or '', hmget_all(KEYS[3], users), alone}
