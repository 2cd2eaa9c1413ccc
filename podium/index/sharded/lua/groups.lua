-- Lua helper for dense-tie boards: keep the distinct (total, subscore) pairs of the users in
-- the sorted sets, with how many hold each, as a user's state changes from `old` to `new`
-- (either nil). Needs state.lua. `sign` is '-1' on a desc board (the sets' score is -total), else '1'. A
-- pair's member in the groups set is its subscore hex (the tie-break above the 16 hex digits
-- of time), ':', the score: equal scores then sort by subscore, as members do.
local function group_of(st, sign)
  if not st or st == '' then return nil end
  local flag, mem, total = string.match(st, '^%d+|(%d)|([^|]*)|(-?%d+)|')
  if flag ~= '0' then return nil end
  local tie = tie_in(mem)
  local score = total
  if sign == '-1' then
    if string.sub(total, 1, 1) == '-' then
      score = string.sub(total, 2)
    elseif total ~= '0' then
      score = '-' .. total
    end
  end
  return score, string.sub(tie, 1, #tie - 16) .. ':' .. score
end
local function regroup(sizes, groups, sign, old, new)
  local os, om = group_of(old, sign)
  local ns, nm = group_of(new, sign)
  if om == nm then return end
  if om then
    if redis.call('HINCRBY', sizes, om, -1) <= 0 then
      redis.call('HDEL', sizes, om)
      redis.call('ZREM', groups, om)
    end
  end
  if nm then
    if redis.call('HINCRBY', sizes, nm, 1) == 1 then redis.call('ZADD', groups, ns, nm) end
  end
end
