-- enqueue: records new invocations of one function, idempotent on invocationId.
--
-- KEYS[1..8]  the function's index keys (see lib.lua)
-- KEYS[9..8+n]  record hash of each of the n items   {prefix:fn}:inv:<requestId>
-- then the idempotency hash of each item that has an invocationId, in item order
--               {prefix:fn}:idem:<invocationId>
-- KEYS[#KEYS]   the invocationId index  {prefix:fn}:iids  (always passed; written for items
--               with an invocationId: member invocationId \0 createdAt \0 requestId, score 0)
-- ARGV, 11 per item:
--   requestId, createdAt, scheduledAt, hops, payload (JSON text), first event (JSON text; '' =
--   the plain Enqueued event, built here), invocationId ('' = none), payloadKey (canonical
--   payload JSON, '' = none), rerunOf ('' = none), traceContext ('' = none), group ('=' + the
--   group key, '' = none: a group key may be empty)
--
-- then 2 more: the pub/sub channel and the head of the `due` message (signals.ts dueMessage):
--   when it created any, the script publishes the message with the earliest new scheduledAt
--   itself, saving the store a command per enqueue
--
-- Returns a flat array, 2 entries per item: outcome, requestId where outcome is
--   'created'   (requestId = the new one)
--   'duplicate' (an earlier call had this invocationId and an equal payload; its requestId)
--   'conflict'  (an earlier call had this invocationId and another payload; its requestId)
-- then the error of a publish that failed ('' = none: the writes stand either way).
local out = {}
local n = (#ARGV - 2) / 11
local channel, message_head = ARGV[#ARGV - 1], ARGV[#ARGV]
local earliest = false -- the earliest scheduledAt created
local next_idem = INDEX_KEYS + n + 1
local iids = KEYS[#KEYS]
local indexed = {} -- members for the invocationId index: score, member, ...
local grouped, work = {}, {} -- for the group indexes: rid, group, ... and score, member, ...
for i = 0, n - 1 do
  local a = i * 11
  local rid, created, scheduled, hops = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  local payload, event, iid, pkey = ARGV[a + 5], ARGV[a + 6], ARGV[a + 7], ARGV[a + 8]
  local rerun_of, trace, group = ARGV[a + 9], ARGV[a + 10], ARGV[a + 11]
  local rec, idem = KEYS[INDEX_KEYS + 1 + i], false
  local existing = false
  if iid ~= '' then
    idem = KEYS[next_idem]
    next_idem = next_idem + 1
    existing = redis.call('HMGET', idem, 'rid', 'pkey')
    if not existing[1] then existing = false end
  end
  if existing then
    out[#out + 1] = (existing[2] == pkey) and 'duplicate' or 'conflict'
    out[#out + 1] = existing[1]
  else
    if iid ~= '' then
      redis.call('HSET', idem, 'rid', rid, 'pkey', pkey)
    end
    if event == '' then event = event_json(created, 'Enqueued', 0) end
    local set = { 'requestId', rid, 'status', 'Enqueued', 'payload', payload,
      'attempts', '0', 'createdAt', created, 'scheduledAt', scheduled, 'events', event,
      'dueAt', scheduled, 'throttles', '0', 'hops', hops }
    if iid ~= '' then
      set[#set + 1] = 'invocationId'
      set[#set + 1] = iid
      indexed[#indexed + 1] = 0
      indexed[#indexed + 1] = iid .. '\0' .. created .. '\0' .. rid
    end
    if rerun_of ~= '' then
      set[#set + 1] = 'rerunOf'
      set[#set + 1] = rerun_of
    end
    if trace ~= '' then
      set[#set + 1] = 'traceContext'
      set[#set + 1] = trace
    end
    if group ~= '' then
      group = string.sub(group, 2)
      set[#set + 1] = 'groupKey'
      set[#set + 1] = group
      grouped[#grouped + 1] = rid
      grouped[#grouped + 1] = group
      work[#work + 1] = 0
      work[#work + 1] = work_member(group, scheduled, rid)
    end
    redis.call('HSET', rec, unpack(set))
    IX_CREATED[#IX_CREATED + 1] = created
    IX_CREATED[#IX_CREATED + 1] = rid
    index_change(rid, false, false, 'Enqueued', scheduled, false, false, created, false)
    out[#out + 1] = 'created'
    out[#out + 1] = rid
    if not earliest or tonumber(scheduled) < earliest then earliest = tonumber(scheduled) end
  end
end
flush_index()
write_chunked('ZADD', iids, indexed, 2000)
write_chunked('HSET', K_GOF, grouped, 2000)
write_chunked('ZADD', K_GWORK, work, 2000)
local failed = ''
if earliest then
  -- pcall: a server that refuses the publish (an ACL) fails the wake-up, not the enqueue.
  local published = redis.pcall('PUBLISH', channel, message_head .. int(earliest) .. '}}')
  if type(published) == 'table' and published.err then failed = published.err end
end
out[#out + 1] = failed
return out
