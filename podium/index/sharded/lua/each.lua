-- Lua helpers: a few commands of many arguments, not one a user: each call costs the primary,
-- and the replica replaying it, more than its work. Lua's stack takes a bounded number of
-- arguments at a time, so both go 1,000 at a time.
-- `each` runs `command` on `key` with `args`; `hmget_all` is HMGET of every field, false for
-- a missing one.
-- The writers' batches come as rows, not JSON: a row a line ('\n'), its fields split by tabs,
-- read with string.gmatch into plain locals. Nothing a row holds has either byte: ids and
-- members are [A-Za-z0-9_.:-], totals and versions digits, a state's details JSON (which
-- escapes both). cjson.decode of a batch was about 1 µs a user in each script, a table a row;
-- gmatch ~0.3.
local function each(command, key, args)
  for first = 1, #args, 1000 do redis.call(command, key, unpack(args, first, math.min(first + 999, #args))) end
end
local function hmget_all(key, fields)
  local values = {}
  for first = 1, #fields, 1000 do
    local got = redis.call('HMGET', key, unpack(fields, first, math.min(first + 999, #fields)))
    for j = 1, #got do values[first + j - 1] = got[j] end
  end
  return values
end
