-- settle: fenced updates by lease holders, for records of one function.
--
-- KEYS[1..8]  the function's index keys (see lib.lua)
-- KEYS[9]     held: set by a claim a running-count limit held back (claim.lua)
-- KEYS[10..]  record hash of each item, in ARGV order
-- ARGV, 16 per item. Optional fields are tagged by their first character:
--   'u' = leave unchanged, 'n' = clear (null), 'v' + value = set; delivery also 'p' + value =
--   set a delivery whose status is Pending.
--   1 requestId   2 leaseToken   3 status   4 events (comma-joined JSON objects, '' = none)
--   5 dueAt ('' = none)   6 keepLease ('1' or '')   7 scheduledAt (tagged)   8 endedAt (tagged)
--   9 result (tagged JSON)   10 error (tagged JSON)   11 condition (tagged)
--   12 throttles (tagged)   13 delivery (tagged JSON)   14 lostAttempts (tagged)
--   15 interruptedAttempts (tagged)   16 wake ('1': it frees a limited function's slot)
--
-- Returns 2 entries per item: outcome, signalAt, then whether to publish a wake-up ('1': a slot
-- was freed while a claim waited for one; `held` is taken) or ''
--   outcome 'ok' (written), 'stale' (the lease token does not match or the record is gone),
--           'stopping' (record is Stopping and the status would not end it; nothing written)
--   signalAt the new dueAt when the record is now unleased and due (a 'due' signal), else ''
local TAGGED = { [7] = 'scheduledAt', [8] = 'endedAt', [9] = 'result', [10] = 'error',
  [11] = 'condition', [12] = 'throttles', [14] = 'lostAttempts', [15] = 'interruptedAttempts' }
local K_HELD = KEYS[INDEX_KEYS + 1]
local out = {}
local freed = false
local n = #ARGV / 16
for i = 0, n - 1 do
  local a = i * 16
  local rid, token, status = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local rec = KEYS[INDEX_KEYS + 2 + i]
  local f = redis.call('HMGET', rec, 'lease', 'status', 'events', 'createdAt', 'endedAt', 'dpending')
  local outcome, signal_at = 'ok', ''
  if not f[1] or f[1] ~= token then
    outcome = 'stale'
  elseif f[2] == 'Stopping' and not FINAL[status] and status ~= 'Stopping' then
    outcome = 'stopping'
  else
    -- Collected into one HSET and one HDEL.
    local set, del = { 'status', status }, {}
    local events = ARGV[a + 4]
    if events ~= '' then
      set[#set + 1] = 'events'
      set[#set + 1] = (f[3] and f[3] ~= '') and (f[3] .. ',' .. events) or events
    end
    local due = ARGV[a + 5]
    if due == '' then del[#del + 1] = 'dueAt' else set[#set + 1] = 'dueAt'; set[#set + 1] = due end
    local keep = ARGV[a + 6] == '1'
    if not keep then del[#del + 1] = 'lease' end
    local ended_at, dpending = f[5], f[6]
    for j, field in pairs(TAGGED) do
      local v = ARGV[a + j]
      local tag = string.sub(v, 1, 1)
      if tag == 'n' then
        del[#del + 1] = field
      elseif tag == 'v' then
        set[#set + 1] = field
        set[#set + 1] = string.sub(v, 2)
        if j == 8 then ended_at = string.sub(v, 2) end
      end
    end
    local d = ARGV[a + 13]
    local dtag = string.sub(d, 1, 1)
    if dtag == 'n' then
      del[#del + 1] = 'delivery'
      del[#del + 1] = 'dpending'
      dpending = false
    elseif dtag == 'v' or dtag == 'p' then
      dpending = (dtag == 'p') and '1' or '0'
      set[#set + 1] = 'delivery'
      set[#set + 1] = string.sub(d, 2)
      set[#set + 1] = 'dpending'
      set[#set + 1] = dpending
    end
    redis.call('HSET', rec, unpack(set))
    if #del > 0 then redis.call('HDEL', rec, unpack(del)) end
    -- Leased before, so it was not in the done index.
    index_change(rid, f[2], false, status, (due ~= '') and due or false, keep and token or false, dpending, f[4], ended_at)
    local group = group_of(rid)
    if group then group_move(rid, group, nil, true, (due ~= '') and due or nil, keep) end
    if not keep and due ~= '' then signal_at = due end
    if ARGV[a + 16] == '1' then freed = true end
  end
  out[#out + 1] = outcome
  out[#out + 1] = signal_at
end
flush_index()
out[#out + 1] = (freed and redis.call('DEL', K_HELD) == 1) and '1' or ''
return out
