-- claim, part 1 of 5 (after lib.lua): the claim's arguments, and what it does to one due record:
-- take it (lease it), drop it (final, owing nothing) or forget it (gone). claim.lua lists the
-- KEYS and ARGV.
--
-- RECORD_FIELDS: what a claim reads of a record (one HMGET) and returns for each one it took,
-- by position; codec.ts CLAIM_FIELDS is the same list.
local RECORD_FIELDS = { 'requestId', 'status', 'payload', 'attempts', 'createdAt', 'scheduledAt',
  'events', 'throttles', 'hops', 'startedAt', 'endedAt', 'result', 'error', 'condition',
  'invocationId', 'dueAt', 'lease', 'delivery', 'dpending', 'lostAttempts', 'interruptedAttempts',
  'rerunOf', 'traceContext', 'groupKey' }
local F_STATUS, F_ATTEMPTS, F_CREATED, F_EVENTS, F_STARTED = 2, 4, 5, 7, 10
local F_DUE, F_LEASE, F_DPENDING = 16, 17, 19
local K_STARTS, K_RR, K_HELD = KEYS[INDEX_KEYS + 1], KEYS[INDEX_KEYS + 2], KEYS[INDEX_KEYS + 3]
-- Attempts the caller ended and is settling (requestId, lease token; their record keys come
-- first among the record keys): the limits do not count them as running, while their records
-- still hold those leases (one taken over by another worker runs again, and counts).
-- `ending_running` counts those that are in the running index (Running or Stopping: the index
-- holds exactly those), read with the lease instead of asking the index about each.
local ENDING_N = tonumber(ARGV[11])
local ending = {}
local ending_running = 0
for e = 1, ENDING_N do
  local rid, token = ARGV[10 + 2 * e], ARGV[11 + 2 * e]
  local f = redis.call('HMGET', KEYS[INDEX_KEYS + 3 + e], 'lease', 'status')
  if f[1] == token and not ending[rid] then
    ending[rid] = true
    if f[2] == 'Running' or f[2] == 'Stopping' then ending_running = ending_running + 1 end
  end
end
-- Attempts this claim took in its earlier round trips (Claims.claim): running, so counted, but
-- not running when the claim began, so not the lease whose lapse frees a slot (HeldBack.freesAt).
local OWN_AT = 12 + 2 * ENDING_N
local own = {}
for i = OWN_AT + 1, OWN_AT + tonumber(ARGV[OWN_AT]) do own[ARGV[i]] = true end
local ARG_CANDIDATES = OWN_AT + 1 + tonumber(ARGV[OWN_AT])
local now, lease_ms, max_age = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local base, limit, peek = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local lease_until = int(now + lease_ms)
-- The record key of each candidate: the only records this script may touch.
local given = {}
for i = ARG_CANDIDATES, #ARGV do given[ARGV[i]] = KEYS[INDEX_KEYS + 4 + ENDING_N + i - ARG_CANDIDATES] end
-- kind, leaseToken, fields of each record taken, in the order taken
local taken_out = {}
local taken = 0

local function read(rec)
  return redis.call('HMGET', rec, unpack(RECORD_FIELDS))
end

-- What a claim does with a due record (record-rules.ts claimKindOf): 'run', 'expire', 'recover',
-- 'deliver', or 'drop' (final, owing nothing: it should not be due) or 'gone' (no such record).
local function kind_of(f)
  local status = f[F_STATUS]
  if not status then return 'gone' end
  if status == 'Enqueued' or status == 'Retrying' then
    return (now - tonumber(f[F_CREATED]) > max_age) and 'expire' or 'run'
  end
  if status == 'Running' or status == 'Stopping' then return 'recover' end
  if f[F_DPENDING] == '1' then return 'deliver' end
  return 'drop'
end

-- Leases the record as `kind` (not 'drop' or 'gone'); returns the lease token.
local function take(rid, rec, f, kind)
  taken = taken + 1
  local token = base .. taken
  local old_due, was_leased = f[F_DUE], f[F_LEASE] and true or false
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
  local group = group_of(rid)
  if group then group_move(rid, group, (not was_leased) and old_due, was_leased, lease_until, true) end
  taken_out[#taken_out + 1] = kind
  taken_out[#taken_out + 1] = token
  taken_out[#taken_out + 1] = f
  return token
end

-- A final record owing nothing should not be due at all, and a lapsed kept lease goes too (so
-- retention can prune it).
local function drop(rid, rec, f)
  redis.call('HDEL', rec, 'dueAt', 'lease')
  reindex(rec, rid)
  local group = group_of(rid)
  if group then
    local leased = f[F_LEASE] and true or false
    group_move(rid, group, (not leased) and f[F_DUE], leased, nil, false)
  end
end

-- The record is gone (pruned): drop its stray index entries, due at `due`.
local function forget(rid, due)
  redis.call('ZREM', K_DUE, rid)
  local group = group_of(rid)
  if group then
    redis.call('ZREM', K_GWORK, work_member(group, due, rid))
    redis.call('ZREM', K_GLEASE, rid)
    redis.call('HDEL', K_GOF, rid)
  end
end
