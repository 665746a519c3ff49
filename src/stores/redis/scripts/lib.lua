-- Shared by every op script: the loader prepends this file, so each op script starts here.
--
-- Every op script receives the eight index keys of one function first, in this order
-- (all share the hash tag {prefix:functionName}, so they live in one Cluster slot):
--   KEYS[1] due      sorted set  requestId -> dueAt (run, lease expiry or delivery)
--   KEYS[2] pending  sorted set  requestId -> createdAt, for Enqueued/Retrying (stats)
--   KEYS[3] running  set         requestIds that are Running/Stopping (stats)
--   KEYS[4] done     sorted set  requestId -> endedAt, for prunable finished records
--   KEYS[5] created  sorted set  requestId -> createdAt (listing by function)
-- and the group indexes, written only for records with a group key (the function's
-- limits.groupBy; flow control reads them):
--   KEYS[6] gwork    sorted set, every score 0, of `group \0 dueAt (16 digits) \0 requestId` for
--                    each unleased due record: a group's due work is a lex range, its head first
--   KEYS[7] glease   sorted set  requestId -> lease expiry, for each leased record
--   KEYS[8] gof      hash        requestId -> group
-- followed by the script's own keys (record hashes, idempotency hashes).
local K_DUE, K_PENDING, K_RUNNING, K_DONE, K_CREATED = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local K_GWORK, K_GLEASE, K_GOF = KEYS[6], KEYS[7], KEYS[8]
local INDEX_KEYS = 8

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

-- Index changes are collected over a script call and written at its end by flush_index, one
-- command per index and kind rather than a few commands per record. Each table maps
-- rid -> score to add (true for the running set) or false to remove; a later change of the
-- same rid replaces an earlier one, so the end state is that of the last change.
local IX_DUE, IX_PENDING, IX_RUNNING, IX_DONE = {}, {}, {}, {}
local IX_CREATED = {} -- enqueue only: score, rid, score, rid, ...

local function write_chunked(command, key, list, step)
  for i = 1, #list, step do
    redis.call(command, key, unpack(list, i, math.min(i + step - 1, #list)))
  end
end

local function flush_sorted(key, changes)
  local add, rem = {}, {}
  for rid, score in pairs(changes) do
    if score then
      add[#add + 1] = score
      add[#add + 1] = rid
    else
      rem[#rem + 1] = rid
    end
  end
  write_chunked('ZADD', key, add, 2000)
  write_chunked('ZREM', key, rem, 1000)
end

-- Writes the collected index changes; every script that changes indexes calls it before it
-- reads an index again and before it returns.
local function flush_index()
  flush_sorted(K_DUE, IX_DUE)
  flush_sorted(K_PENDING, IX_PENDING)
  flush_sorted(K_DONE, IX_DONE)
  local add, rem = {}, {}
  for rid, member in pairs(IX_RUNNING) do
    if member then add[#add + 1] = rid else rem[#rem + 1] = rid end
  end
  write_chunked('SADD', K_RUNNING, add, 1000)
  write_chunked('SREM', K_RUNNING, rem, 1000)
  write_chunked('ZADD', K_CREATED, IX_CREATED, 2000)
  IX_DUE, IX_PENDING, IX_RUNNING, IX_DONE, IX_CREATED = {}, {}, {}, {}, {}
end

-- Puts rid into exactly the indexes a record in this state belongs to. Called after every
-- change, so no op script has to know which indexes the previous state used.
local function index_state(rid, status, due, lease, dpending, created_at, ended_at)
  IX_DUE[rid] = due or false
  IX_PENDING[rid] = (status == 'Enqueued' or status == 'Retrying') and created_at or false
  IX_RUNNING[rid] = status == 'Running' or status == 'Stopping'
  IX_DONE[rid] = (FINAL[status] and not lease and dpending ~= '1') and (ended_at or '0') or false
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
  IX_DUE[rid] = due or false
  local old, new = status_group(old_status), status_group(status)
  if old ~= new then
    if old == 'pending' then
      IX_PENDING[rid] = false
    elseif old == 'running' then
      IX_RUNNING[rid] = false
    end
    if new == 'pending' then
      IX_PENDING[rid] = created_at
    elseif new == 'running' then
      IX_RUNNING[rid] = true
    end
  end
  if new == 'final' and not lease and dpending ~= '1' then
    IX_DONE[rid] = ended_at or '0'
  elseif was_done then
    IX_DONE[rid] = false
  end
end

-- index_state for a record as it is stored now (one extra read; for the rarely used paths).
local function reindex(rec, rid)
  local f = redis.call('HMGET', rec, 'status', 'dueAt', 'lease', 'dpending', 'createdAt', 'endedAt')
  index_state(rid, f[1], f[2], f[3], f[4], f[5], f[6])
end

-- Whether the function has records with a group, read once per call: a function without groups
-- pays one EXISTS per script call and nothing per record.
local HAS_GROUPS

-- The group of a record ('' for work adopted without one), or nil when it has none.
local function group_of(rid)
  if HAS_GROUPS == nil then HAS_GROUPS = redis.call('EXISTS', K_GOF) == 1 end
  if not HAS_GROUPS then return nil end
  return redis.call('HGET', K_GOF, rid) or nil
end

local function work_member(group, due, rid)
  return group .. '\0' .. string.format('%016d', tonumber(due)) .. '\0' .. rid
end

-- Moves a record of `group` in the group indexes, written at once (a grouped claim reads them
-- as it goes): out of the group's due work where it was (`old_free`: its dueAt while unleased,
-- nil if it was not there) or out of the leases (`was_leased`), then into the leases (`leased`,
-- expiring at `due`) or the group's due work at `due`, or nowhere (no `due`).
local function group_move(rid, group, old_free, was_leased, due, leased)
  if old_free then redis.call('ZREM', K_GWORK, work_member(group, old_free, rid)) end
  if due and leased then
    redis.call('ZADD', K_GLEASE, due, rid)
    return
  end
  if was_leased then redis.call('ZREM', K_GLEASE, rid) end
  if due then redis.call('ZADD', K_GWORK, 0, work_member(group, due, rid)) end
end
