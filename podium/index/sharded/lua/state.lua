-- Lua helper: what a user's state holds of its member. Since issue 19's bytes step a state holds
-- the member's tie-break hex without its leading zeros, and not the ':' and user id after it
-- (the users hash's field is the user): a shorter value, one allocation size class less a user.
-- A state written before holds the whole member (a tie-break never has a ':'), and reads as it is.
-- `tie_in` gives the tie-break at its member's fixed width: 16 hex digits, or 30 on a board with
-- a subscore, whose tie-breaks always have more than 16 (domain.ordering.is_tiebreak);
-- `member_in` the member (index.redis.member_in is the same rule in Python).
-- One string.sub of a constant and one concatenation a member: string.rep and a concatenation
-- in two steps cost about twice as much a returning user in the one-bucket script (spike).
local ZEROS = '000000000000000000000000000000'
local function tie_in(held)
  local colon = string.find(held, ':', 1, true)
  if colon then return string.sub(held, 1, colon - 1) end
  local n = #held
  return string.sub(ZEROS, 1, (n <= 16 and 16 or 30) - n) .. held
end
local function member_in(held, user)
  if string.find(held, ':', 1, true) then return held end
  local n = #held
  return string.sub(ZEROS, 1, (n <= 16 and 16 or 30) - n) .. held .. ':' .. user
end
