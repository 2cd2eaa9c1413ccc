-- KEYS: the board's map, its lock. ARGV: the holder's token, the epoch of the map the
-- holder read, the new map. Returns 1 if set, else 0. A mover or split that stalled past
-- its lock (a lost connection, a paused process) must not put a map over one that writers
-- already wrote under: the map changes only while this very hold owns the lock and the
-- map is still the one it read.
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
local current = redis.call('GET', KEYS[1])
if not current or not string.find(current, '"epoch":' .. ARGV[2] .. ',', 1, true) then return 0 end
redis.call('SET', KEYS[1], ARGV[3])
return 1
