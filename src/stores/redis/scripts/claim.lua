-- claim: leases due work of one function, oldest dueAt first, in one round trip.
--
-- A script may only touch the keys it is given, so the caller passes the record keys of the
-- ids it expects to be due first: the candidates the previous claim returned (and the ids it
-- enqueued since). The script walks the due index in order and claims while each due id is
-- one of those; at the first due id it was not given, it stops, and the caller (seeing fewer
-- taken than asked while candidates remain) claims again with the fresh candidates returned
-- here. So the order is exact, and a wrong guess only costs a round trip.
--
-- KEYS[1..5]  the function's index keys (see lib.lua)
-- KEYS[6..]   record hash of each candidate, in ARGV order
-- ARGV[1] now (epoch ms)      ARGV[2] leaseMs       ARGV[3] maxEventAgeMs
-- ARGV[4] token base: lease token i is <base><i>, unique per call
-- ARGV[5] limit               ARGV[6] peek: how many due entries to read beyond `limit`, to
--                             return as the next claim's candidates
-- ARGV[7..] candidate requestIds
--
-- Returns { nextDueAt ('' = none), candidates (the due ids it read but did not reach, in order),
--   then 3 entries per claimed item: kind, leaseToken, fields }
-- where kind is 'run' | 'expire' | 'recover' | 'deliver' (see record-rules.ts claimKindOf) and
-- fields is the record after the claim: the values of RECORD_FIELDS in order, false (nil) for
-- a field the record does not have (codec.ts CLAIM_FIELDS is the same list).
local RECORD_FIELDS = { 'requestId', 'status', 'payload', 'attempts', 'createdAt', 'scheduledAt',
  'events', 'throttles', 'hops', 'startedAt', 'endedAt', 'result', 'error', 'condition',
  'invocationId', 'dueAt', 'lease', 'delivery', 'dpending', 'lostAttempts', 'interruptedAttempts',
  'rerunOf', 'traceContext' }
local F_STATUS, F_ATTEMPTS, F_CREATED, F_EVENTS, F_STARTED = 2, 4, 5, 7, 10
local F_DUE, F_LEASE, F_DPENDING = 16, 17, 19
local now, lease_ms, max_age = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local base, limit, peek = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local given = {}
for i = 7, #ARGV do given[ARGV[i]] = KEYS[INDEX_KEYS + i - 6] end
local out = { '', false }
local taken = 0
local lease_until = int(now + lease_ms)
-- One read serves the claim, the candidates for the next one and the earliest dueAt left.
local window = redis.call('ZRANGEBYSCORE', K_DUE, '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, limit + peek)
local entries = #window / 2
local j = 1 -- the next entry of the window to look at
while j <= entries and taken < limit do
  local rid = window[2 * j - 1]
  local rec = given[rid]
  if not rec then break end
  local f = redis.call('HMGET', rec, unpack(RECORD_FIELDS))
  local status = f[F_STATUS]
  local kind = false
  if not status then
    redis.call('ZREM', K_DUE, rid) -- the record is gone (pruned): drop its stray index entry
  elseif status == 'Enqueued' or status == 'Retrying' then
    kind = (now - tonumber(f[F_CREATED]) > max_age) and 'expire' or 'run'
  elseif status == 'Running' or status == 'Stopping' then
    kind = 'recover'
  elseif f[F_DPENDING] == '1' then
    kind = 'deliver'
  else
    -- final with nothing owed: it should not be due at all, and a lapsed kept lease goes too
    -- (so retention can prune it)
    redis.call('HDEL', rec, 'dueAt', 'lease')
    reindex(rec, rid)
  end
  if kind then
    local token = base .. j
    if kind == 'run' then
      local attempts = tostring(tonumber(f[F_ATTEMPTS]) + 1)
      local events = event_json(ARGV[1], 'Running', attempts)
      if f[F_EVENTS] and f[F_EVENTS] ~= '' then events = f[F_EVENTS] .. ',' .. events end
      local started = f[F_STARTED] or ARGV[1]
      redis.call('HSET', rec, 'lease', token, 'dueAt', lease_until, 'status', 'Running',
        'attempts', attempts, 'events', events, 'startedAt', started)
      f[F_STATUS], f[F_ATTEMPTS], f[F_EVENTS], f[F_STARTED] = 'Running', attempts, events, started
      -- Enqueued/Retrying -> Running: from the pending index to the running one.
      IX_PENDING[rid] = false
      IX_RUNNING[rid] = true
    else
      -- Status unchanged; leased now, so not prunable (it never was: not final or owed).
      redis.call('HSET', rec, 'lease', token, 'dueAt', lease_until)
    end
    f[F_DUE], f[F_LEASE] = lease_until, token
    IX_DUE[rid] = lease_until
    taken = taken + 1
    out[#out + 1] = kind
    out[#out + 1] = token
    out[#out + 1] = f
  end
  j = j + 1
end
flush_index()
-- The entries not looked at are still due, in due order: the next claim's candidates, and the
-- first of them is the earliest dueAt left (all before it were leased into the future or
-- dropped). With none left, the index itself says; when what it says is due (the window was
-- used up), that id is a candidate too, so a caller still short of its quota claims again and
-- sees what it is (a final record owing nothing is cleared then, not left as the next due).
local candidates = {}
for k = j, entries do candidates[#candidates + 1] = window[2 * k - 1] end
if j <= entries then
  out[1] = window[2 * j]
else
  local first = redis.call('ZRANGE', K_DUE, 0, 0, 'WITHSCORES')
  if first[2] then
    out[1] = first[2]
    if tonumber(first[2]) <= now then candidates[1] = first[1] end
  end
end
out[2] = candidates
return out
