-- claim, part 2 of 5: the slot's limits (claim-gate.ts's rules, as the memory and SQLite stores
-- apply them). Read once as the claim begins, then kept up to date as it takes work, so the
-- limits hold within the claim too. Nothing here runs for a slot without limits.
--
-- Running attempts: the running index (Running/Stopping) whose lease, their dueAt in the due
-- index, has not lapsed; a dead worker's slots come back as its leases lapse. Those the caller
-- says it ended (`ending`, claim-take.lua: their settlements are on the way) are not counted.
-- Starts: KEYS starts, a sorted set of the function's attempt starts (score = start, member =
-- the lease token), kept START_KEPT_MS so a process whose clock lags still counts the starts of
-- one ahead of it.
local L_CONCURRENCY, L_PER_SECOND, L_GROUP = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local L_GROUPED = ARGV[10] == '1'
local LIMITED = (L_CONCURRENCY or L_PER_SECOND or L_GROUP or L_GROUPED) and true or false
local START_KEPT_MS = 10000
local running, running_by = 0, {}
-- When the earliest lease counted as running lapses: its slot comes back then, settled or not.
local lapse_at = false
local starts = {} -- start times in the one-second window, oldest first
-- The earliest HeldBack.expiresAt of the work passed over for a limit.
local expires_at = false
-- A group at its cap was passed over while it had due work.
local group_held = false

local function gate_count(group)
  running = running + 1
  if L_GROUP then running_by[group] = (running_by[group] or 0) + 1 end
end

-- The group a limit counts a record in ('' for none).
local function gate_group(rid)
  return L_GROUP and (group_of(rid) or '') or ''
end

-- The starts of the last second, for perSecond.
local function gate_open_rate()
  if L_PER_SECOND then
    redis.call('ZREMRANGEBYSCORE', K_STARTS, '-inf', int(now - START_KEPT_MS))
    local window = redis.call('ZRANGEBYSCORE', K_STARTS, '(' .. int(now - 1000), '+inf', 'WITHSCORES')
    for i = 2, #window, 2 do starts[#starts + 1] = tonumber(window[i]) end
  end
end

local function gate_open()
  if L_CONCURRENCY and not L_GROUP then
    -- Every running member counted, lapsed or not, still leaves room for all this claim may
    -- take: no refusal can come, so the count need not be exact (nor the earliest lapse known).
    -- The common case when the limit matches the workers' capacity; it saves a read per member.
    local members = redis.call('SCARD', K_RUNNING) - ending_running
    if members + limit <= L_CONCURRENCY then
      running = members
      return gate_open_rate()
    end
  end
  if L_CONCURRENCY or L_GROUP then
    for _, rid in ipairs(redis.call('SMEMBERS', K_RUNNING)) do
      local lease = not ending[rid] and tonumber(redis.call('ZSCORE', K_DUE, rid))
      if lease and lease > now then
        gate_count(gate_group(rid))
        if not own[rid] and (not lapse_at or lease < lapse_at) then lapse_at = lease end
      end
    end
  end
  gate_open_rate()
end

local function gate_group_full(group)
  return L_GROUP and (running_by[group] or 0) >= L_GROUP
end

-- Why a run in `group` may not start now ('concurrency', 'group', 'rate'), or nil.
local function gate_refusal(group)
  if L_CONCURRENCY and running >= L_CONCURRENCY then return 'concurrency' end
  if gate_group_full(group) then return 'group' end
  if L_PER_SECOND and #starts >= L_PER_SECOND then return 'rate' end
  return nil
end

-- A run of work created at `created` was left waiting for a limit.
local function gate_passed_over(created)
  local at = tonumber(created) + max_age + 1
  if not expires_at or at < expires_at then expires_at = at end
end

-- A run started in `group`; `token` names the start (nil: only counted, not written).
local function gate_started(group, token)
  if L_CONCURRENCY or L_GROUP then gate_count(group) end
  if L_PER_SECOND then
    starts[#starts + 1] = now
    if token then redis.call('ZADD', K_STARTS, now, token) end
  end
end

-- A lapsed lease of a running attempt was taken over: its recoverer holds the slot.
local function gate_recovered(group)
  if L_CONCURRENCY or L_GROUP then gate_count(group) end
end

-- HeldBack's reason, expiresAt and (for 'rate') retryAt, as the reply carries it, then (for a
-- running-count limit) when the earliest running lease the claim found lapses ('' = none).
local function gate_held_back(reason)
  local retry_at, lapses = '', ''
  if reason == 'rate' then
    table.sort(starts)
    retry_at = int(starts[#starts - L_PER_SECOND + 1] + 1000)
  elseif lapse_at then
    lapses = int(lapse_at)
  end
  return { reason, int(expires_at or 0), retry_at, lapses }
end
