-- prune: removes finished records of one function that retention no longer keeps, with their
-- logs and their entries in the function's indexes.
--
-- The caller picks candidates from the done index; each is re-checked here (finished, not
-- leased, no pending delivery) because it may have changed since.
--
-- KEYS[1..5]  the function's index keys (see lib.lua)
-- KEYS[6]     the invocationId index {prefix:fn}:iids (member invocationId \0 createdAt \0 requestId)
-- then per candidate i (0-based), three keys:
--   KEYS[7+3i]  record hash
--   KEYS[8+3i]  its idempotency hash (a never-written placeholder when it has no invocationId)
--   KEYS[9+3i]  its log lines {prefix:fn}:log:<requestId>
-- ARGV        the candidates' requestIds
--
-- Returns the requestIds actually removed (the caller then drops them from the global indexes).
local K_IIDS = KEYS[INDEX_KEYS + 1]
local out = {}
for i = 0, #ARGV - 1 do
  local rid = ARGV[i + 1]
  local base = INDEX_KEYS + 2 + 3 * i
  local rec, idem, log = KEYS[base], KEYS[base + 1], KEYS[base + 2]
  local f = redis.call('HMGET', rec, 'status', 'lease', 'dpending', 'invocationId', 'createdAt')
  if not f[1] then
    redis.call('ZREM', K_DONE, rid)
    redis.call('ZREM', K_CREATED, rid)
    redis.call('DEL', log)
    out[#out + 1] = rid
  elseif FINAL[f[1]] and not f[2] and f[3] ~= '1' then
    if f[4] then
      if redis.call('HGET', idem, 'rid') == rid then redis.call('DEL', idem) end
      redis.call('ZREM', K_IIDS, f[4] .. '\0' .. f[5] .. '\0' .. rid)
    end
    redis.call('DEL', rec, log)
    redis.call('ZREM', K_DONE, rid)
    redis.call('ZREM', K_CREATED, rid)
    redis.call('ZREM', K_DUE, rid)
    out[#out + 1] = rid
  end
end
return out
