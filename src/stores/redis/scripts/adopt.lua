-- adopt: puts due work of a grouped function the group indexes lack into them. A grouped claim
-- reads only those indexes, so until then it does not see such work:
-- - work without a group (enqueued before the function had limits.groupBy, or by a process
--   without it) joins group '', served as one group of its own, as the SQLite store adopts it;
-- - work with a group that an older version of this store changed (its scripts did not keep
--   the group indexes) goes back where its state says.
--
-- KEYS[1..8]  the function's index keys (see lib.lua)
-- KEYS[9..]   record hash of each ARGV id
-- ARGV        requestIds a first call could not place (with their records now), or none
--
-- Without ARGV: when the due index holds more than the group indexes (three ZCARDs: each due
-- record with a group is in exactly one of them), walks it and places what the indexes tell
-- (running work without a group: in the leases). Returns the ids it cannot place without their
-- records, for a second call: whether they are leased (pending work being expired, a delivery
-- under way) only the record says. With ARGV, places those; returns {}.
local UNGROUPED = ''

if #ARGV > 0 then
  for i = 1, #ARGV do
    local rid = ARGV[i]
    local f = redis.call('HMGET', KEYS[INDEX_KEYS + i], 'status', 'dueAt', 'lease')
    if f[1] and f[2] then
      local group = redis.call('HGET', K_GOF, rid)
      if not group then
        group = UNGROUPED
        redis.call('HSET', K_GOF, rid, group)
      end
      -- A stale entry of its due work (at another time), if any, goes when a claim meets it.
      local leased = f[3] and true or false
      group_move(rid, group, nil, not leased, f[2], leased)
    end
  end
  return {}
end

local grouped = redis.call('ZCARD', K_GWORK) + redis.call('ZCARD', K_GLEASE)
if redis.call('ZCARD', K_DUE) <= grouped then return {} end
local unknown = {}
local due = redis.call('ZRANGE', K_DUE, 0, -1, 'WITHSCORES')
for i = 1, #due, 2 do
  local rid, at = due[i], due[i + 1]
  local group = redis.call('HGET', K_GOF, rid)
  if not group then
    if redis.call('SISMEMBER', K_RUNNING, rid) == 1 then
      redis.call('HSET', K_GOF, rid, UNGROUPED)
      group_move(rid, UNGROUPED, nil, false, at, true)
    else
      unknown[#unknown + 1] = rid
    end
  elseif not redis.call('ZSCORE', K_GLEASE, rid) and not redis.call('ZSCORE', K_GWORK, work_member(group, at, rid)) then
    unknown[#unknown + 1] = rid
  end
end
return unknown
