-- KEYS: per segment its sorted set and the set's trim mark. ARGV: the reader's map epoch, then
-- per segment its range (lo score, lo member, hi score, hi member; '' for open), then optionally
-- a member whose place in the LAST segment is wanted, its score, and 'p' if it may be a phantom
-- (a key no member has: its place is then where it would sort). Returns false if a set was trimmed for a
-- newer map than the reader's (it must read again); else per segment its in-range count and how
-- many members sit below its range, then (if a member was given) that member's position in
-- its segment's range (-1: not there).
local epoch = tonumber(ARGV[1])
local result = {}
local n = #KEYS / 2
local last_below = 0
for i = 1, n do
  local trimmed = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
  if trimmed > epoch then return false end
  local j = (i - 1) * 4 + 1
  local count, below = count_range(KEYS[2 * i - 1], ARGV[j + 1], ARGV[j + 2], ARGV[j + 3], ARGV[j + 4])
  result[2 * i - 1] = count
  result[2 * i] = below
  last_below = below
end
local wanted = ARGV[n * 4 + 2]
if wanted then
  local rank = redis.call('ZRANK', KEYS[2 * n - 1], wanted)
  if not rank and ARGV[n * 4 + 4] == 'p' then rank = count_lt(KEYS[2 * n - 1], ARGV[n * 4 + 3], wanted) end
  if rank then result[2 * n + 1] = rank - last_below else result[2 * n + 1] = -1 end
end
return result
