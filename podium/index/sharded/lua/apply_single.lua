-- The whole write of a batch to a board that is one bucket on its home shard, nothing in
-- transit: as it is one script on one shard, it needs neither the lease nor the intent that
-- let BEGIN, MOVE and COMMIT (possibly on several shards) survive a crash between them.
-- KEYS: split lock, map, users, intents, the bucket's set, its fence, writes (this second),
-- writes (the last full second), group sizes, groups, the board's change number, writers.
-- ARGV: the writer's map epoch, bucket id, dense sign (see groups.lua), '1' to rank the users
-- applied, the batch as rows (see each.lua): per user user, version, flag (as in the state),
-- score, member, state; the writer's id, then '-1' on a desc board (the set's score is -total), else '1'.
-- Returns 0 if the board is locked, -1 if the map or the set's fence moved past the writer's
-- epoch (either way the general path takes the batch: it waits, and reads the map); else
-- {positions (1-based) in the batch of the users applied, their ranks (0 for a removed user;
-- a hidden one: where it would sort), members in the set, the bucket's writes in the last
-- full second}.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local epoch = ARGV[1]
local current_map = redis.call('GET', KEYS[2])
if not current_map or not string.find(current_map, '"epoch":' .. epoch .. ',', 1, true) then return -1 end
if tonumber(redis.call('GET', KEYS[6]) or '0') > tonumber(epoch) then return -1 end
-- Every write raises the board's change number, so no reader keeps a count across it.
local now = redis.call('TIME')
raise_changes(KEYS[11], now[1] * 1000 + math.floor(now[2] / 1000))
local set, sign = KEYS[5], ARGV[3]
local users, versions, flags, scores, members, states, n = {}, {}, {}, {}, {}, {}, 0
local row = '([^\t\n]+)\t(%d+)\t(%d)\t([^\t]*)\t([^\t]*)\t([^\n]*)'
for user, version, f, score, mem, st in string.gmatch(ARGV[5], row) do
  n = n + 1
  users[n], versions[n], flags[n], scores[n], members[n], states[n] = user, tonumber(version), f, score, mem, st
end
-- A few commands of many arguments, not a few a user (each.lua). Members hold the user id, so
-- one user's removal never meets another's addition; a user's own old member goes before its
-- new one.
-- An intent left by a general attempt that never committed (its writer holds no lease, or it
-- is this writer's own): the members it names that its users' states do not are strays. One
-- script on the one shard holding the states and the set, so the check and the removal are
-- one step. Rare: looked at only when some intent is recorded.
if redis.call('HLEN', KEYS[4]) > 0 then
  local intents = redis.call('HGETALL', KEYS[4])
  for i = 1, #intents, 2 do
    local lease = tonumber(redis.call('ZSCORE', KEYS[12], intents[i]) or '0')
    if intents[i] == ARGV[6] or lease < now[1] * 1000 + math.floor(now[2] / 1000) then
      local strays, own = {}, {}
      for _, row in ipairs(cjson.decode(intents[i + 1])) do
        if row[3] ~= '' then
          local stray = string.match(row[3], '^[^|]*|(.*)$')
          local st = redis.call('HGET', KEYS[3], row[1])
          local flag, mem, total
          if st then flag, mem, total = string.match(st, '^%d+|(%d)|([^|]*)|(-?%d+)|') end
          if flag == '0' and member_in(mem, row[1]) == stray then
            -- The user's own member, maybe written with another total (two writers with the
            -- same version): as the state says.
            own[#own + 1] = sorted_score(total, ARGV[7])  -- as text: a number would round past 2^53
            own[#own + 1] = stray
          else
            strays[#strays + 1] = stray
          end
        end
      end
      each('ZREM', set, strays)
      each('ZADD', set, own)
      redis.call('HDEL', KEYS[4], intents[i])
    end
  end
end
local got = hmget_all(KEYS[3], users)
local applied, gone, added, stored = {}, {}, {}, {}
for i = 1, n do
  local current = got[i]
  local newer = true
  if current then
    local v, f, m = string.match(current, '^(%d+)|(%d)|([^|]*)|')
    if tonumber(v) >= versions[i] then newer = false elseif f == '0' then gone[#gone + 1] = member_in(m, users[i]) end
  else
    current = nil
  end
  if newer then
    if flags[i] == '0' then
      added[#added + 1] = scores[i]
      added[#added + 1] = members[i]
    end
    if sign ~= '' then regroup(KEYS[9], KEYS[10], sign, current, states[i]) end
    stored[#stored + 1] = users[i]
    stored[#stored + 1] = states[i]
    applied[#applied + 1] = i
  end
end
each('ZREM', set, gone)
each('ZADD', set, added)
each('HSET', KEYS[3], stored)
if #added > 0 then
  redis.call('HINCRBY', KEYS[7], ARGV[2], #added / 2)
  redis.call('EXPIRE', KEYS[7], 60)
end
local ranks = {}
if ARGV[4] == '1' then  -- after the whole batch: each rank as a read right after it sees it
  for j, i in ipairs(applied) do
    local rank = 0
    if flags[i] == '0' then
      rank = redis.call('ZRANK', set, members[i]) + 1
    elseif flags[i] == '2' then
      rank = count_lt(set, scores[i], members[i]) + 1
    end
    ranks[j] = rank
  end
end
local last = tonumber(redis.call('HGET', KEYS[8], ARGV[2]) or '0')
return {applied, ranks, redis.call('ZCARD', set), last}
