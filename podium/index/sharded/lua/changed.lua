-- KEYS: the board's change number. Raise it (after members changed outside a lease: a
-- repair, or strays a writer dropped after its commit).
local now = redis.call('TIME')
raise_changes(KEYS[1], now[1] * 1000 + math.floor(now[2] / 1000))
return 1
