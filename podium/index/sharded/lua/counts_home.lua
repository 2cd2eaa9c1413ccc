-- KEYS: map, details flag, the board's change number, writers, lock, then the home shard's
-- segments' sets. ARGV: the reader's map epoch, the change number its counts were taken at
-- ('' for none), then per set its range. Returns {map} if the reader's map is not the current
-- one; else {'', 1 if any user has details else 0, change number, quiet, 1 if counted}, then
-- (counted: unless the reader's counts are still good) every set's in-range count.
local map = redis.call('GET', KEYS[1]) or ''
if ARGV[1] == '' or not string.find(map, '"epoch":' .. ARGV[1] .. ',', 1, true) then return {map} end
local changes, quiet = board_changes(KEYS[3], KEYS[4], KEYS[5])
local result = {'', redis.call('EXISTS', KEYS[2]), changes, quiet, 0}
if quiet == 1 and changes ~= '' and changes == ARGV[2] then return result end
result[5] = 1
for i = 6, #KEYS do
  local j = (i - 6) * 4 + 2
  result[#result + 1] = count_range(KEYS[i], ARGV[j + 1], ARGV[j + 2], ARGV[j + 3], ARGV[j + 4])
end
return result
