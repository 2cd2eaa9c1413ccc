-- KEYS: the groups set. ARGV: score, member of a pair. How many pairs sort before it.
return count_lt(KEYS[1], ARGV[1], ARGV[2])
