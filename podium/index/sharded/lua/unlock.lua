-- KEYS: the board's lock. ARGV: holder. Release it if still ours.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
