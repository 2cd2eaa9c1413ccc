-- KEYS: a shard's segments' sets, then their trim marks. ARGV: the reader's map epoch, a key's
-- score and member ('' '' for none), 'p' if the key may be a phantom, then per set its range.
-- Returns false if a set was trimmed for a newer map than the reader's; else {the key's place
-- (see place_of; -1: its segment is not here), then every set's in-range count}.
local n = #KEYS / 2
local result = {-1}
for i = 1, n do
  if tonumber(redis.call('GET', KEYS[n + i]) or '0') > tonumber(ARGV[1]) then return false end
  local j = (i - 1) * 4 + 5
  local lo_s, lo_m, hi_s, hi_m = ARGV[j], ARGV[j + 1], ARGV[j + 2], ARGV[j + 3]
  if ARGV[2] ~= '' and holds(lo_s, lo_m, hi_s, hi_m, ARGV[2], ARGV[3]) then
    result[1] = place_of(KEYS[i], lo_s, lo_m, ARGV[2], ARGV[3], ARGV[4] == 'p')
  end
  result[i + 1] = count_range(KEYS[i], lo_s, lo_m, hi_s, hi_m)
end
return result
