-- claim: leases due work of one function, oldest dueAt first.
--
-- The caller first reads candidate ids (ZRANGEBYSCORE due), then passes their record keys here,
-- because a script may only touch keys it is given. Each candidate is re-checked: another
-- claim may have taken it in between.
--
-- KEYS[1..5]  the function's index keys (see lib.lua)
-- KEYS[6..]   record hash of each candidate, in ARGV order
-- ARGV[1] now (epoch ms)      ARGV[2] leaseMs       ARGV[3] maxEventAgeMs
-- ARGV[4] token base: lease token i is <base><i>, unique per call
-- ARGV[5] limit               ARGV[6..] candidate requestIds
--
-- Returns { nextDueAt ('' = none), then 3 entries per claimed item: kind, leaseToken, fields }
-- where kind is 'run' | 'expire' | 'recover' | 'deliver' (see record-rules.ts claimKindOf) and
-- fields is the record hash after the claim as a flat HGETALL array.
local now, lease_ms, max_age = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local base, limit = ARGV[4], tonumber(ARGV[5])
local out = { '' }
local taken = 0
for i = 6, #ARGV do
  if taken >= limit then break end
  local rid, rec = ARGV[i], KEYS[INDEX_KEYS + i - 5]
  local due = redis.call('ZSCORE', K_DUE, rid)
  if due and tonumber(due) <= now then
    local f = redis.call('HMGET', rec, 'status', 'createdAt', 'dpending', 'attempts', 'startedAt', 'events')
    local status = f[1]
    local kind = false
    if not status then
      redis.call('ZREM', K_DUE, rid) -- the record is gone (pruned): drop its stray index entry
    elseif status == 'Enqueued' or status == 'Retrying' then
      kind = (now - tonumber(f[2]) > max_age) and 'expire' or 'run'
    elseif status == 'Running' or status == 'Stopping' then
      kind = 'recover'
    elseif f[3] == '1' then
      kind = 'deliver'
    else
      -- final with nothing owed: it should not be due at all
      redis.call('HDEL', rec, 'dueAt')
      reindex(rec, rid)
    end
    if kind then
      local token = base .. i
      local lease_until = int(now + lease_ms)
      if kind == 'run' then
        local attempts = tonumber(f[4]) + 1
        local events = event_json(ARGV[1], 'Running', attempts)
        if f[6] and f[6] ~= '' then events = f[6] .. ',' .. events end
        redis.call('HSET', rec, 'lease', token, 'dueAt', lease_until, 'status', 'Running',
          'attempts', attempts, 'events', events, 'startedAt', f[5] or ARGV[1])
        -- Enqueued/Retrying -> Running: from the pending index to the running one.
        redis.call('ZREM', K_PENDING, rid)
        redis.call('SADD', K_RUNNING, rid)
      else
        -- Status unchanged; leased now, so not prunable (it never was: not final or owed).
        redis.call('HSET', rec, 'lease', token, 'dueAt', lease_until)
      end
      redis.call('ZADD', K_DUE, lease_until, rid)
      taken = taken + 1
      out[#out + 1] = kind
      out[#out + 1] = token
      out[#out + 1] = redis.call('HGETALL', rec)
    end
  end
end
local first = redis.call('ZRANGE', K_DUE, 0, 0, 'WITHSCORES')
if first[2] then out[1] = first[2] end
return out
