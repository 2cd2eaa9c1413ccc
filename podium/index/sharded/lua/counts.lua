-- KEYS: per segment its sorted set and the set's trim mark. ARGV: the reader's map epoch, then
-- per segment its range (lo score, lo member, hi score, hi member; '' for open), then optionally
-- a member whose place in the LAST segment is wanted, its score, and 'p' if it may be a phantom
-- (a key no member has: its place is then where it would sort). Returns false if a set was trimmed for a
-- newer map than the reader's (it must read again); else per segment its in-range count and how
-- many members sit below its range, then (if a member was given) that member's position in
-- its segment's range (-1: not there).
local n = #KEYS / 2
local result, below = segment_counts(tonumber(ARGV[1]), n)
if not result then return false end
local wanted = ARGV[n * 4 + 2]
if wanted then
  local rank = redis.call('ZRANK', KEYS[2 * n - 1], wanted)
  if not rank and ARGV[n * 4 + 4] == 'p' then rank = count_lt(KEYS[2 * n - 1], ARGV[n * 4 + 3], wanted) end
  if rank then result[2 * n + 1] = rank - below[n] else result[2 * n + 1] = -1 end
end
return result
