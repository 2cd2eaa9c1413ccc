-- KEYS: a segment's set, its trim mark. ARGV: the reader's map epoch, the segment's lower bound
-- (score, member; '' for open), a key's score and member, 'p' if it may be a phantom. Returns
-- false if the set was trimmed for a newer map than the reader's; else the key's place.
if tonumber(redis.call('GET', KEYS[2]) or '0') > tonumber(ARGV[1]) then return false end
return place_of(KEYS[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6] == 'p')
