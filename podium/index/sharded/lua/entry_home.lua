-- KEYS: users, map, the board's change number, writers, lock, then the home shard's segments'
-- sets (in rank order). ARGV: user, the reader's map epoch ('' for none), the board's sign ('-1'
-- desc, '1' asc), the change number the reader's counts were taken at ('' for none), then per set
-- its range (as in counts.lua). Returns {''} for an unknown user or board; {state} when the user is
-- not ranked; {state, map} when the reader's map is not the current one; else {state, '', change
-- number, quiet, place (see place_of; -1: the user's segment is not here), 1 if counted}, then
-- (counted: unless the reader's counts are still good — same change number, quiet) every set's
-- in-range count.
local st = redis.call('HGET', KEYS[1], ARGV[1])
local map = redis.call('GET', KEYS[2])
if not st or not map then return {''} end
if ARGV[2] == '' or not string.find(map, '"epoch":' .. ARGV[2] .. ',', 1, true) then return {st, map} end
local flag, mem, total = string.match(st, '^%d+|(%d)|([^|]*)|(-?%d+)|')
if flag == '1' then return {st} end
mem = member_in(mem, ARGV[1])
local score = sorted_score(total, ARGV[3])
local changes, quiet = board_changes(KEYS[3], KEYS[4], KEYS[5])
local kept = quiet == 1 and changes ~= '' and changes == ARGV[4]
local result = {st, '', changes, quiet, -1, 1}
if kept then result[6] = 0 end
for i = 6, #KEYS do
  local j = (i - 6) * 4 + 5
  local lo_s, lo_m, hi_s, hi_m = ARGV[j], ARGV[j + 1], ARGV[j + 2], ARGV[j + 3]
  if holds(lo_s, lo_m, hi_s, hi_m, score, mem) then
    result[5] = place_of(KEYS[i], lo_s, lo_m, score, mem, flag == '2')
  end
  if not kept then result[#result + 1] = count_range(KEYS[i], lo_s, lo_m, hi_s, hi_m) end
end
return result
