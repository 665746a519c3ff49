-- workers: the worker presences that have not lapsed at `now`; drops the lapsed ones.
--
-- Unlike the op scripts, it does not work on a function's records: lib.lua is not prepended.
--
-- KEYS[1]  the presence hash {prefix}:workers   workerId -> '<expiresAt>|<presence JSON>'
-- ARGV[1]  now (epoch ms)
--
-- Returns the values of the live presences ('<expiresAt>|<presence JSON>'), in no order.
local now = tonumber(ARGV[1])
local all = redis.call('HGETALL', KEYS[1])
local live, lapsed = {}, {}
for i = 1, #all, 2 do
  local value = all[i + 1]
  local expires = tonumber(string.match(value, '^(%d+)|'))
  if expires and expires > now then
    live[#live + 1] = value
  else
    lapsed[#lapsed + 1] = all[i]
  end
end
if #lapsed > 0 then redis.call('HDEL', KEYS[1], unpack(lapsed)) end
return live
