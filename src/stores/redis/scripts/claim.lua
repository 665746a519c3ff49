-- claim, part 5 of 5: leases due work of one function in one round trip, within the slot's
-- limits (the loader prepends lib.lua and claim-take, -gate, -due, -groups.lua).
--
-- A script may only touch the keys it is given, so the caller passes the record keys of the
-- ids it expects to take: the candidates the previous claim returned (and the ids it enqueued
-- since). When the walk reaches one it was not given, it stops and returns the right ones, and
-- the caller claims again with them (see claim-due.lua and claim-groups.lua).
--
-- KEYS[1..8]  the function's index keys (see lib.lua)
-- KEYS[9]     starts: attempt starts of the last seconds (claim-gate.lua)
-- KEYS[10]    rr: the groups' round-robin places (claim-groups.lua)
-- KEYS[11]    held: set when a running-count limit held work back (settle.lua takes it)
-- KEYS[12..]  record hash of each attempt said ended (ARGV[11]), then of each candidate, in ARGV order
-- ARGV[1] now (epoch ms)      ARGV[2] leaseMs       ARGV[3] maxEventAgeMs
-- ARGV[4] token base: lease token i is <base><i>, unique per call
-- ARGV[5] limit               ARGV[6] peek: how many ids to return beyond `limit`, as the next
--                             claim's candidates
-- ARGV[7] limits.concurrency  ARGV[8] limits.perSecond  ARGV[9] limits.groupConcurrency
--                             ('' = none)   ARGV[10] limits.grouped ('1' or '')
-- ARGV[11] e: how many attempts follow that the caller ended and is settling (not running)
-- ARGV[12..11+2e] requestId, lease token of each
-- ARGV[12+2e] o: how many requestIds follow that this claim took in its earlier round trips
-- ARGV[13+2e..12+2e+o] those requestIds      ARGV[13+2e+o..] candidate requestIds
--
-- Returns { nextDueAt ('' = none), candidates (in the order the claim expects to take them),
--   again ('1': claim again with these candidates, ''), heldBack ({} or { reason, expiresAt,
--   retryAt ('' unless reason is 'rate'), lapseAt (for 'concurrency' and 'group': when the
--   earliest running lease lapses, '' = none) }), then 3 entries per claimed item: kind,
--   leaseToken, fields }
-- where kind is 'run' | 'expire' | 'recover' | 'deliver' (see record-rules.ts claimKindOf) and
-- fields is the record after the claim: the values of RECORD_FIELDS in order, false (nil) for
-- a field the record does not have.
local next_due, candidates, again, held_back
if LIMITED then gate_open() end
if L_GROUPED then
  next_due, candidates, again, held_back = walk_groups()
else
  next_due, candidates, again, held_back = walk_due()
end
-- Someone waits for a slot: the settle that frees one says so (a wake-up), others need not.
if held_back and held_back[1] ~= 'rate' then redis.call('SET', K_HELD, '1') end
local out = { next_due, candidates, again and '1' or '', held_back or {} }
for i = 1, #taken_out do out[#out + 1] = taken_out[i] end
return out
