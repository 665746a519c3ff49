-- heartbeat: renews leases on records of one function.
--
-- KEYS[1..8]  the function's index keys (see lib.lua)
-- KEYS[9..]   record hash of each lease, in ARGV order
-- ARGV[1] new lease expiry (now + leaseMs, epoch ms)
-- ARGV[2..]   2 per lease: requestId, leaseToken
--
-- Returns one entry per lease: 'held' (renewed), 'stopping' (renewed, and a stop was
-- requested) or 'lost' (the token no longer matches or the record is gone; nothing written).
local expiry = ARGV[1]
local out = {}
local n = (#ARGV - 1) / 2
for i = 0, n - 1 do
  local rid, token = ARGV[2 + 2 * i], ARGV[3 + 2 * i]
  local rec = KEYS[INDEX_KEYS + 1 + i]
  local f = redis.call('HMGET', rec, 'lease', 'status')
  if not f[1] or f[1] ~= token then
    out[#out + 1] = 'lost'
  else
    redis.call('HSET', rec, 'dueAt', expiry)
    redis.call('ZADD', K_DUE, expiry, rid)
    local group = group_of(rid)
    if group then redis.call('ZADD', K_GLEASE, expiry, rid) end
    out[#out + 1] = (f[2] == 'Stopping') and 'stopping' or 'held'
  end
end
return out
