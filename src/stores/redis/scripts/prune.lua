-- prune: removes finished records of one function that retention no longer keeps.
--
-- The caller picks candidates from the done index; each is re-checked here (finished, not
-- leased, no pending delivery) because it may have changed since.
--
-- KEYS[1..5]  the function's index keys (see lib.lua)
-- then per candidate i (0-based), two keys:
--   KEYS[6+2i]  record hash
--   KEYS[7+2i]  its idempotency hash (a never-written placeholder when it has no invocationId)
-- ARGV        the candidates' requestIds
--
-- Returns the requestIds actually removed (the caller then drops them from the global indexes).
local out = {}
for i = 0, #ARGV - 1 do
  local rid = ARGV[i + 1]
  local rec, idem = KEYS[INDEX_KEYS + 1 + 2 * i], KEYS[INDEX_KEYS + 2 + 2 * i]
  local f = redis.call('HMGET', rec, 'status', 'lease', 'dpending')
  if not f[1] then
    redis.call('ZREM', K_DONE, rid)
    redis.call('ZREM', K_CREATED, rid)
    out[#out + 1] = rid
  elseif FINAL[f[1]] and not f[2] and f[3] ~= '1' then
    if redis.call('HGET', idem, 'rid') == rid then redis.call('DEL', idem) end
    redis.call('DEL', rec)
    redis.call('ZREM', K_DONE, rid)
    redis.call('ZREM', K_CREATED, rid)
    redis.call('ZREM', K_DUE, rid)
    out[#out + 1] = rid
  end
end
return out
