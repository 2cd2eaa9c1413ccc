-- Lua helpers: `sorted_score` is a total as the sets hold it (sign '-1' on a desc board: see
-- groups.lua); `holds` says if a segment's range (lo, hi; '' for open) holds a key; `place_of` is a
-- key's position in a segment of `set` from its lower bound: its member's, or (`phantom`) where
-- it would sort, or -2 if the member is not there (between a write's steps).
local function sorted_score(total, sign)
  if sign ~= '-1' or total == '0' then return total end
  if string.sub(total, 1, 1) == '-' then return string.sub(total, 2) end
  return '-' .. total
end
local function before(s1, m1, s2, m2)
  s1, s2 = tonumber(s1), tonumber(s2)
  return s1 < s2 or (s1 == s2 and m1 < m2)
end
local function holds(lo_s, lo_m, hi_s, hi_m, score, mem)
  return (lo_s == '' or not before(score, mem, lo_s, lo_m)) and (hi_s == '' or before(score, mem, hi_s, hi_m))
end
local function place_of(set, lo_s, lo_m, score, mem, phantom)
  local below = 0
  if lo_s ~= '' then below = count_lt(set, lo_s, lo_m) end
  local at = redis.call('ZRANK', set, mem)
  if not at and phantom then at = count_lt(set, score, mem) end
  if at then return at - below end
  return -2
end
