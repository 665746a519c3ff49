-- prune: removes finished records of one function that retention no longer keeps, with their
-- logs and their entries in the function's indexes.
--
-- The caller picks candidates from the done index; each is re-checked here (finished, not
-- leased, no pending delivery) because it may have changed since.
--
-- KEYS[1..8]  the function's index keys (see lib.lua)
-- KEYS[9]     the invocationId index {prefix:fn}:iids (member invocationId \0 createdAt \0 requestId)
-- then per candidate i (0-based), three keys:
--   KEYS[10+3i] record hash
--   KEYS[11+3i] its idempotency hash (a never-written placeholder when it has no invocationId)
--   KEYS[12+3i] its log lines {prefix:fn}:log:<requestId>
-- ARGV        the candidates' requestIds
--
-- Returns the requestIds actually removed (the caller then drops them from the global indexes).
local K_IIDS = KEYS[INDEX_KEYS + 1]
local out = {}
-- A pruned record is unleased; one still due (it should not be) leaves its group's work too.
local function forget_group(rid, due)
  local group = group_of(rid)
  if not group then return end
  if due then redis.call('ZREM', K_GWORK, work_member(group, due, rid)) end
  redis.call('HDEL', K_GOF, rid)
end
for i = 0, #ARGV - 1 do
  local rid = ARGV[i + 1]
  local base = INDEX_KEYS + 2 + 3 * i
  local rec, idem, log = KEYS[base], KEYS[base + 1], KEYS[base + 2]
  local f = redis.call('HMGET', rec, 'status', 'lease', 'dpending', 'invocationId', 'createdAt', 'dueAt')
  if not f[1] then
    redis.call('ZREM', K_DONE, rid)
    redis.call('ZREM', K_CREATED, rid)
    redis.call('DEL', log)
    forget_group(rid, false)
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
    forget_group(rid, f[6])
    out[#out + 1] = rid
  end
end
return out
