-- KEYS: writers. How many leases are still live (expired ones are dropped).
local now = redis.call('TIME')
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now[1] * 1000 + math.floor(now[2] / 1000))
return redis.call('ZCARD', KEYS[1])
