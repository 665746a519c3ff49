-- claim, part 3 of 5: the walk of the due index, oldest dueAt first (expired leases and free work
-- in one order), for slots without limits and slots whose limits do not group.
--
-- It claims while each due id is one of the candidates it was given; at the first due id it was
-- not given, it stops, and the caller (told to claim again) passes the fresh candidates
-- returned here. So the order is exact, and a wrong guess only costs a round trip. A limit stops
-- it at the first run it refuses: that work, and all after it, keeps its place.
--
-- Returns nextDueAt ('' = none), the candidates (the due ids it read but did not reach, in
-- order), whether to claim again, and the HeldBack (gate_held_back) when a limit held work back.
local function walk_due()
  -- One read serves the claim, the candidates for the next one and the earliest dueAt left.
  local window = redis.call('ZRANGEBYSCORE', K_DUE, '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, limit + peek)
  local entries = #window / 2
  local held = nil
  local j = 1 -- the next entry of the window to look at
  while j <= entries and taken < limit do
    local rid = window[2 * j - 1]
    local rec = given[rid]
    if not rec then break end
    local f = read(rec)
    local kind = kind_of(f)
    if kind == 'gone' then
      forget(rid, window[2 * j])
    elseif kind == 'drop' then
      drop(rid, rec, f)
    elseif kind == 'run' and LIMITED and not f[F_LEASE] then
      local group = gate_group(rid)
      held = gate_refusal(group)
      if held then
        gate_passed_over(f[F_CREATED])
        break
      end
      gate_started(group, take(rid, rec, f, kind))
    else
      -- An expired lease is taken over whatever the limits (even of work that was being
      -- expired, now claimed as a run); if it runs, its taker holds the slot.
      take(rid, rec, f, kind)
      if LIMITED and (kind == 'recover' or kind == 'run') then gate_recovered(gate_group(rid)) end
    end
    j = j + 1
  end
  flush_index()
  -- The entries not looked at are still due, in due order: the next claim's candidates, and the
  -- first of them is the earliest dueAt left (all before it were leased into the future or
  -- dropped). With none left, the index itself says; when what it says is due (the window was
  -- used up), that id is a candidate too, so a caller still short of its quota claims again and
  -- sees what it is (a final record owing nothing is cleared then, not left as the next due).
  local candidates = {}
  for k = j, entries do candidates[#candidates + 1] = window[2 * k - 1] end
  local next_due = ''
  if j <= entries then
    next_due = window[2 * j]
  else
    local first = redis.call('ZRANGE', K_DUE, 0, 0, 'WITHSCORES')
    if first[2] then
      next_due = first[2]
      if tonumber(first[2]) <= now then candidates[1] = first[1] end
    end
  end
  return next_due, candidates, not held and taken < limit and #candidates > 0, held and gate_held_back(held)
end
