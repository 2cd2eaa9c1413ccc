-- Lua helper: raise a board's change number (names.board_changes_key). It is at least the
-- time in ms, so a board dropped and made again never repeats a number a reader kept.
local function raise_changes(key, now_ms)
  local was = tonumber(redis.call('GET', key) or '0')
  redis.call('SET', key, string.format('%d', math.max(now_ms, was + 1)))
end
