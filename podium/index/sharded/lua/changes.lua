-- Lua helper: the board's change number ('' for none yet) and 1 if the board is quiet (no live
-- writer lease, no lock: no batch, mover step or repair under way), else 0.
local function board_changes(changes, writers, lock)
  local now = redis.call('TIME')
  local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
  local quiet = 0
  if redis.call('ZCOUNT', writers, '(' .. now_ms, '+inf') == 0 and redis.call('EXISTS', lock) == 0 then quiet = 1 end
  return redis.call('GET', changes) or '', quiet
end
