-- append-logs: appends lines to logs of one function's invocations, each log kept within its
-- bounds (the oldest lines go first), in one call per function.
--
-- Unlike the op scripts, it does not work on the function's indexes: lib.lua is not prepended.
--
-- KEYS, two per item (i from 0):
--   KEYS[1+2i]  the record hash {prefix:fn}:inv:<requestId>: when it does not exist the item is
--               ignored. Holds the log's counters: logSeq (the last seq given), logDropped
--               (lines dropped so far) and logBytes (the bytes of the lines kept).
--   KEYS[2+2i]  the log, sorted set {prefix:fn}:log:<requestId>: score seq, member
--               '<seq>:<bytes>:<line JSON>' (the seq keeps members unique, the bytes let a
--               trim keep logBytes without parsing the JSON)
-- ARGV, per item: maxLines, maxBytes, dropped (lines the writer dropped, older than these: they
--   take seq numbers and count as dropped), n (lines), then 2 per line, oldest first:
--   bytes (logLineBytes), the line as JSON text without its seq
--
-- Returns the number of items appended (the others' records did not exist).
local function int(n)
  return string.format('%d', n)
end

local function size_of(member)
  return tonumber(string.match(member, '^%d+:(%d+):'))
end

local appended = 0
local a = 1
for i = 0, #KEYS / 2 - 1 do
  local rec, log = KEYS[1 + 2 * i], KEYS[2 + 2 * i]
  local max_lines, max_bytes = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local dropped, n = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local first = a + 4 -- ARGV index of the first line's bytes
  a = first + 2 * n
  local f = redis.call('HMGET', rec, 'status', 'logSeq', 'logDropped', 'logBytes')
  if f[1] then
    local seq = (tonumber(f[2]) or 0) + dropped
    local gone = (tonumber(f[3]) or 0) + dropped
    local bytes = tonumber(f[4]) or 0
    -- The newest lines of the batch that fit on their own are kept; the older ones go at once
    -- (they still take their seq numbers).
    local keep, keep_bytes = 0, 0
    for j = n - 1, 0, -1 do
      local size = tonumber(ARGV[first + 2 * j])
      if keep >= max_lines or keep_bytes + size > max_bytes then break end
      keep = keep + 1
      keep_bytes = keep_bytes + size
    end
    local skip = n - keep
    gone = gone + skip
    -- Then the oldest stored lines while the log would be over a bound. The lines kept are the
    -- newest ones, contiguous: when a line of the batch did not fit, no stored line stays.
    local count = redis.call('ZCARD', log)
    if count > 0 and skip > 0 then
      redis.call('DEL', log)
      gone = gone + count
      count = 0
    elseif count > 0 then
      local excess = count + keep - max_lines
      if excess > 0 then
        local popped = redis.call('ZPOPMIN', log, excess)
        for k = 1, #popped, 2 do bytes = bytes - size_of(popped[k]) end
        gone = gone + #popped / 2
        count = count - #popped / 2
      end
      while count > 0 and bytes + keep_bytes > max_bytes do
        local popped = redis.call('ZPOPMIN', log)
        bytes = bytes - size_of(popped[1])
        gone = gone + 1
        count = count - 1
      end
    end
    if count == 0 then bytes = 0 end
    seq = seq + skip
    local add = {}
    for j = skip, n - 1 do
      seq = seq + 1
      add[#add + 1] = int(seq)
      add[#add + 1] = int(seq) .. ':' .. ARGV[first + 2 * j] .. ':' .. ARGV[first + 2 * j + 1]
    end
    for k = 1, #add, 2000 do
      redis.call('ZADD', log, unpack(add, k, math.min(k + 1999, #add)))
    end
    redis.call('HSET', rec, 'logSeq', int(seq), 'logDropped', int(gone), 'logBytes', int(bytes + keep_bytes))
    appended = appended + 1
  end
end
return appended
