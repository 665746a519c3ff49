-- adopt: due work of a grouped function that has no group (enqueued before the function had
-- limits.groupBy, or by a process without it) joins group '', served as one group of its own,
-- as the SQLite store adopts it. A grouped claim reads only the group indexes, so until then
-- it does not see such work.
--
-- KEYS[1..8]  the function's index keys (see lib.lua)
-- KEYS[9..]   record hash of each ARGV id
-- ARGV        requestIds a first call could not place (with their records now), or none
--
-- Without ARGV: when the due index holds more than the group indexes (three ZCARDs), walks it
-- and places what the indexes tell (running work: in the group's leases). Returns the ids it
-- cannot place without their records, for a second call: whether they are leased (pending work
-- being expired, a delivery under way) only the record says. With ARGV, places those; returns {}.
local UNGROUPED = ''
local function adopt(rid, due, leased)
  redis.call('HSET', K_GOF, rid, UNGROUPED)
  group_move(rid, UNGROUPED, nil, false, due, leased)
end

if #ARGV > 0 then
  for i = 1, #ARGV do
    local rid = ARGV[i]
    if redis.call('HEXISTS', K_GOF, rid) == 0 then
      local f = redis.call('HMGET', KEYS[INDEX_KEYS + i], 'status', 'dueAt', 'lease')
      if f[1] and f[2] then adopt(rid, f[2], f[3] and true or false) end
    end
  end
  return {}
end

local grouped = redis.call('ZCARD', K_GWORK) + redis.call('ZCARD', K_GLEASE)
if redis.call('ZCARD', K_DUE) <= grouped then return {} end
local unknown = {}
local due = redis.call('ZRANGE', K_DUE, 0, -1, 'WITHSCORES')
for i = 1, #due, 2 do
  local rid = due[i]
  if redis.call('HEXISTS', K_GOF, rid) == 0 then
    if redis.call('SISMEMBER', K_RUNNING, rid) == 1 then
      adopt(rid, due[i + 1], true)
    else
      unknown[#unknown + 1] = rid
    end
  end
end
return unknown
