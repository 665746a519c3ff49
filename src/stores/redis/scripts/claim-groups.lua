-- claim, part 4 of 5: the walk of a grouped function (limits.grouped): the head of every group
-- with due work, served round-robin (the group that started least recently first, then the
-- earliest head), passing over groups at their cap; expired leases in dueAt order between them.
--
-- Groups and heads come from the group indexes (lib.lua): a group's due work is a lex range of
-- gwork, and whether a head is a run (and when it was created) is its score in the pending
-- index, so the choice reads no record. Taking one needs its record key: at the first head it
-- was not given, the walk goes on without writing (planning) to list the ids this claim would
-- still take, and the caller claims again with them. After a full claim it plans `peek` more
-- ignoring the caps: the next claim's candidates.
--
-- KEYS rr, a hash group -> sequence number of the group's latest start, holds the groups'
-- places; a group with no due work left is forgotten (it starts afresh, first in line).
--
-- Returns like walk_due (nextDueAt is read from the due index).
local function walk_groups()
  local places = redis.call('HGETALL', K_RR)
  local last, seq = {}, 0
  for i = 1, #places, 2 do
    local s = tonumber(places[i + 1])
    last[places[i]] = s
    if s > seq then seq = s end
  end

  -- A group's head: its first due work at `offset` (past the ones a plan already took).
  local function load_head(g, offset)
    local member = redis.call('ZRANGEBYLEX', K_GWORK, '[' .. g.key .. '\0', '(' .. g.key .. '\1', 'LIMIT', offset, 1)[1]
    g.rid = nil
    if not member then return end
    local at = #g.key + 2
    g.due = tonumber(string.sub(member, at, at + 15))
    g.rid = string.sub(member, at + 17)
    local created = redis.call('ZSCORE', K_PENDING, g.rid)
    g.created = created
    -- Not pending: a final record (a delivery owed, or owing nothing): never held back.
    g.kind = created and ((now - tonumber(created) > max_age) and 'expire' or 'run') or 'other'
  end

  -- Every group with due work, found by skipping from one group's range to the next.
  local groups = {}
  local member = redis.call('ZRANGEBYLEX', K_GWORK, '-', '+', 'LIMIT', 0, 1)[1]
  while member do
    local key = string.sub(member, 1, string.find(member, '\0', 1, true) - 1)
    local g = { key = key, last = last[key] or 0, off = 0 }
    load_head(g, 0)
    groups[#groups + 1] = g
    member = redis.call('ZRANGEBYLEX', K_GWORK, '[' .. key .. '\1', '+', 'LIMIT', 0, 1)[1]
  end
  local lapsed = redis.call('ZRANGEBYSCORE', K_GLEASE, '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, limit + peek)
  local li = 1

  local function choose(caps)
    local best
    for _, g in ipairs(groups) do
      if g.rid and g.due <= now then
        -- A full group's head waits, unless it is not a run (expiring work is still taken).
        if caps and g.kind == 'run' and gate_group_full(g.key) then
          group_held = true
          gate_passed_over(g.created)
        elseif not best or g.last < best.last
          or (g.last == best.last and (g.due < best.due or (g.due == best.due and g.rid < best.rid))) then
          best = g
        end
      end
    end
    return best
  end

  local started = {} -- group -> its new place, for the groups that started work
  local planned = {}

  -- mode 'take' claims, until `limit` or a head it was not given ('missing'); 'plan' (with the
  -- caps) and 'peek' (without) only list `budget` ids. Returns the limit that stopped it, if one did.
  local function walk(mode, budget)
    local caps = mode ~= 'peek'
    local n = 0
    while (mode == 'take' and taken < limit) or (mode ~= 'take' and n < budget) do
      local top = choose(caps)
      local lrid = lapsed[2 * li - 1]
      if lrid and (not top or tonumber(lapsed[2 * li]) <= top.due) then
        -- An expired lease first (on a tie too): recovering is never held back.
        if mode == 'take' then
          local rec = given[lrid]
          if not rec then return 'missing' end
          local f = read(rec)
          local kind = kind_of(f)
          if kind == 'gone' then
            forget(lrid, lapsed[2 * li])
          elseif not f[F_LEASE] then
            redis.call('ZREM', K_GLEASE, lrid) -- a stray: not leased, so not an expired lease
          elseif kind == 'drop' then
            drop(lrid, rec, f)
          else
            take(lrid, rec, f, kind)
            if kind == 'recover' or kind == 'run' then gate_recovered(gate_group(lrid)) end
          end
        else
          planned[#planned + 1] = lrid
          n = n + 1
          if caps and redis.call('SISMEMBER', K_RUNNING, lrid) == 1 then gate_recovered(gate_group(lrid)) end
        end
        li = li + 1
      elseif top then
        if caps and top.kind == 'run' then
          local reason = gate_refusal(top.key)
          if reason then
            gate_passed_over(top.created)
            return reason
          end
        end
        if mode == 'take' then
          local rec = given[top.rid]
          if not rec then return 'missing' end
          local f = read(rec)
          local kind = kind_of(f)
          if kind == 'gone' then
            forget(top.rid, top.due)
          elseif f[F_LEASE] or tonumber(f[F_DUE]) ~= top.due then
            -- a stray entry (the record is leased or due at another time): it only goes
          elseif kind == 'drop' then
            drop(top.rid, rec, f)
          else
            local token = take(top.rid, rec, f, kind)
            if kind == 'run' then
              gate_started(top.key, token)
              seq = seq + 1
              top.last = seq
              started[top.key] = seq
            end
          end
          -- The head left the group's work (also when its entry was stale): the next one is first now.
          redis.call('ZREM', K_GWORK, work_member(top.key, top.due, top.rid))
          load_head(top, 0)
        else
          planned[#planned + 1] = top.rid
          n = n + 1
          if top.kind == 'run' then
            if caps then gate_started(top.key, nil) end
            seq = seq + 1
            top.last = seq
          end
          top.off = top.off + 1
          load_head(top, top.off)
        end
      else
        return nil
      end
    end
    return nil
  end

  local stop = walk('take')
  local held = stop ~= 'missing' and stop or nil
  if not held and group_held then held = 'group' end
  local held_back = held and gate_held_back(held)

  -- Places: the groups that started work move to the back; groups with no due work are forgotten.
  local has_work = {}
  for _, g in ipairs(groups) do
    if g.rid then has_work[g.key] = true end
  end
  local set, forget_places = {}, {}
  for key, s in pairs(started) do
    if has_work[key] then
      set[#set + 1] = key
      set[#set + 1] = s
    end
  end
  for key in pairs(last) do
    if not has_work[key] then forget_places[#forget_places + 1] = key end
  end
  write_chunked('HSET', K_RR, set, 2000)
  write_chunked('HDEL', K_RR, forget_places, 1000)
  flush_index()

  if stop == 'missing' then walk('plan', limit - taken + peek) else walk('peek', peek) end
  local next_due = ''
  local first = redis.call('ZRANGE', K_DUE, 0, 0, 'WITHSCORES')
  if first[2] then next_due = first[2] end
  return next_due, planned, stop == 'missing', held_back
end
