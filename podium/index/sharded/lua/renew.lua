-- KEYS: the board's lock. ARGV: holder, ttl ms. Renew it if still ours.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
