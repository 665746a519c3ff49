-- Shared by every op script: the loader prepends this file, so each op script starts here.
--
-- Every op script receives the five index keys of one function first, in this order
-- (all share the hash tag {prefix:functionName}, so they live in one Cluster slot):
--   KEYS[1] due      sorted set  requestId -> dueAt (run, lease expiry or delivery)
--   KEYS[2] pending  sorted set  requestId -> createdAt, for Enqueued/Retrying (stats)
--   KEYS[3] running  set         requestIds that are Running/Stopping (stats)
--   KEYS[4] done     sorted set  requestId -> endedAt, for prunable finished records
--   KEYS[5] created  sorted set  requestId -> createdAt (listing by function)
-- followed by the script's own keys (record hashes, idempotency hashes).
local K_DUE, K_PENDING, K_RUNNING, K_DONE, K_CREATED = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local INDEX_KEYS = 5

local FINAL = { Succeeded = true, Failed = true, Stopped = true, Expired = true, Invalid = true }

-- Epoch-ms numbers as integer text: tostring would switch to exponent notation past 14 digits.
local function int(n)
  return string.format('%d', n)
end

-- Appends one event (JSON text) to the record's comma-joined event list.
local function append_events(rec, json)
  if json == '' then return end
  local old = redis.call('HGET', rec, 'events')
  if old and old ~= '' then
    redis.call('HSET', rec, 'events', old .. ',' .. json)
  else
    redis.call('HSET', rec, 'events', json)
  end
end

local function event_json(at, status, attempt, detail)
  local json = '{"at":' .. at .. ',"status":"' .. status .. '","attempt":' .. attempt
  if detail then json = json .. ',"detail":"' .. detail .. '"' end
  return json .. '}'
end

-- Puts rid into exactly the indexes a record in this state belongs to. Called after every
-- change, so no op script has to know which indexes the previous state used.
local function index_state(rid, status, due, lease, dpending, created_at, ended_at)
  if due then redis.call('ZADD', K_DUE, due, rid) else redis.call('ZREM', K_DUE, rid) end
  if status == 'Enqueued' or status == 'Retrying' then
    redis.call('ZADD', K_PENDING, created_at, rid)
  else
    redis.call('ZREM', K_PENDING, rid)
  end
  if status == 'Running' or status == 'Stopping' then
    redis.call('SADD', K_RUNNING, rid)
  else
    redis.call('SREM', K_RUNNING, rid)
  end
  if FINAL[status] and not lease and dpending ~= '1' then
    redis.call('ZADD', K_DONE, ended_at or '0', rid)
  else
    redis.call('ZREM', K_DONE, rid)
  end
end

local function status_group(status)
  if status == 'Enqueued' or status == 'Retrying' then return 'pending' end
  if status == 'Running' or status == 'Stopping' then return 'running' end
  if status then return 'final' end
  return 'none'
end

-- Like index_state, for a change whose previous state is known: touches only the indexes
-- that differ (most changes move a record between two of them). `was_done`: the record was
-- in the done index before (finished, unleased, nothing owed).
local function index_change(rid, old_status, was_done, status, due, lease, dpending, created_at, ended_at)
  if due then redis.call('ZADD', K_DUE, due, rid) else redis.call('ZREM', K_DUE, rid) end
  local old, new = status_group(old_status), status_group(status)
  if old ~= new then
    if old == 'pending' then
      redis.call('ZREM', K_PENDING, rid)
    elseif old == 'running' then
      redis.call('SREM', K_RUNNING, rid)
    end
    if new == 'pending' then
      redis.call('ZADD', K_PENDING, created_at, rid)
    elseif new == 'running' then
      redis.call('SADD', K_RUNNING, rid)
    end
  end
  if new == 'final' and not lease and dpending ~= '1' then
    redis.call('ZADD', K_DONE, ended_at or '0', rid)
  elseif was_done then
    redis.call('ZREM', K_DONE, rid)
  end
end

-- index_state for a record as it is stored now (one extra read; for the rarely used paths).
local function reindex(rec, rid)
  local f = redis.call('HMGET', rec, 'status', 'dueAt', 'lease', 'dpending', 'createdAt', 'endedAt')
  index_state(rid, f[1], f[2], f[3], f[4], f[5], f[6])
end
