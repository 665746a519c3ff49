-- activity: adds activity counters of one function, per minute (counters from several
-- processes add up).
--
-- Unlike the op scripts, it does not work on the function's records: lib.lua is not prepended.
--
-- KEYS[1]     the minutes with counters, sorted set {prefix:fn}:actmin (score = member = minute)
-- KEYS[1+i]   the counters of entry i's minute, hash {prefix:fn}:act:<minute>, in ARGV order
-- ARGV[1]     seconds the counters live after their last change: longer than activity is
--             kept, so retention passes drop old minutes (and their index entries) first; the
--             expiry clears what no pass reached
-- ARGV[2..]   per entry: minute (epoch ms), n, then n pairs: field, count to add. Fields are
--             'f:<finished status>', 'w:<wait bucket>', 'r:<run bucket>'.
--
-- Returns the number of entries added.
local ttl = ARGV[1]
local a = 2
local entries = #KEYS - 1
for i = 1, entries do
  local key, minute, n = KEYS[1 + i], ARGV[a], tonumber(ARGV[a + 1])
  for j = 0, n - 1 do
    redis.call('HINCRBY', key, ARGV[a + 2 + 2 * j], ARGV[a + 3 + 2 * j])
  end
  a = a + 2 + 2 * n
  redis.call('EXPIRE', key, ttl)
  redis.call('ZADD', KEYS[1], minute, minute)
end
if entries > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return entries
