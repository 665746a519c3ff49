-- stop: stops an invocation, or asks its worker to (record-rules.ts applyStop).
--
-- KEYS[1..8]  the function's index keys (see lib.lua)
-- KEYS[9]     the record hash
-- ARGV[1] requestId   ARGV[2] now (epoch ms)   ARGV[3] deliverOnFailure ('1' or '')
--
-- Returns { outcome, fields } where outcome is
--   'stopped'  was Enqueued/Retrying, now Stopped
--   'stopping' was Running (now Stopping) or already Stopping: the worker must be told
--   'final'    already finished; unchanged
--   'notFound' no such record (fields is then an empty array)
-- and fields is the record hash after the change as a flat HGETALL array.
local rid, now, deliver = ARGV[1], ARGV[2], ARGV[3] == '1'
local rec = KEYS[INDEX_KEYS + 1]
local f = redis.call('HMGET', rec, 'status', 'attempts', 'dueAt', 'lease')
local status = f[1]
if not status then return { 'notFound', {} } end
local outcome
if status == 'Enqueued' or status == 'Retrying' then
  outcome = 'stopped'
  redis.call('HSET', rec, 'status', 'Stopped', 'endedAt', now, 'condition', 'Stopped',
    'error', '{"errorType":"Stopped","errorMessage":"stopped by stopInvocation before it ran"}')
  append_events(rec, event_json(now, 'Stopped', f[2], 'stopInvocation'))
  redis.call('HDEL', rec, 'lease')
  if deliver then
    redis.call('HSET', rec, 'dueAt', now, 'dpending', '1',
      'delivery', '{"target":"onFailure","status":"Pending","attempts":0,"since":' .. now .. '}')
  else
    redis.call('HDEL', rec, 'dueAt')
  end
  reindex(rec, rid)
  -- It was due at its dueAt (or leased until then, being expired); now due only for a delivery.
  local group = group_of(rid)
  if group then
    local leased = f[4] and true or false
    group_move(rid, group, (not leased) and f[3], leased, deliver and now or nil, false)
  end
elseif status == 'Running' then
  outcome = 'stopping'
  redis.call('HSET', rec, 'status', 'Stopping')
  append_events(rec, event_json(now, 'Stopping', f[2], 'stopInvocation'))
elseif status == 'Stopping' then
  outcome = 'stopping'
else
  outcome = 'final'
end
flush_index()
return { outcome, redis.call('HGETALL', rec) }
