-- `segment_counts(epoch, n)`: for the n segments in KEYS (per segment its sorted set and the
-- set's trim mark) and their ranges in ARGV from 2 (lo score, lo member, hi score, hi member;
-- '' for open), the in-range count and how many members sit below the range, two entries a
-- segment, and those below counts again per segment. nil if a set was trimmed for a newer map
-- than the reader's `epoch` (it must read again).
local function segment_counts(epoch, n)
  local result, below = {}, {}
  for i = 1, n do
    local trimmed = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
    if trimmed > epoch then return nil end
    local j = (i - 1) * 4 + 1
    local count, under = count_range(KEYS[2 * i - 1], ARGV[j + 1], ARGV[j + 2], ARGV[j + 3], ARGV[j + 4])
    result[2 * i - 1] = count
    result[2 * i] = under
    below[i] = under
  end
  return result, below
end
