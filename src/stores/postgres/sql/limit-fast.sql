-- A claim for a function with limits but no groups, in one statement: the gate of claim-gate.ts
-- (the memory and SQLite stores' rules) over claim.sql's order. It takes expired leases and free
-- work in claim order, up to $2, stopping at the first run of free work a limit refuses, and
-- says why (held_reason, held_expires_at, held_retry_at, held_frees_at: HeldBack). It writes
-- nothing when its snapshot is stale or a final row owing nothing is due (fits false): the claim
-- then goes the general way (limited-claim.ts), which reads and decides inside a transaction.
-- Fresh: the statement locks the function's row (limit_functions, as limit-lock.sql does) and
-- bumps its version; its reads are of the snapshot it started with, so a version other than the
-- snapshot's + 1 means another claim of the function committed in between.
-- $1 text: function; $2 integer: at most this many (> 0); $3 bigint: max event age ms;
-- $4 bigint: now; $5 bigint: lease ms; $6 integer: concurrency or null; $7 integer: perSecond or null;
-- $8 text[]: lease tokens of attempts that ended, their settlements on the way (not running).
-- Returns one row per record taken (kind, record-columns.sql) in claim order, each with fits,
-- next_due (the function's earliest due time after the claim) and the held_* columns (null when
-- nothing was held back); with nothing taken, one row with a null kind carries them.
with gate as (
  insert into {{schema}}.limit_functions as f (function_name, version) values ($1::text, 1)
  on conflict (function_name) do update set version = f.version + 1
  returning f.version
),
fresh as (
  select (select g.version from gate g)
    = coalesce((select f.version from {{schema}}.limit_functions f where f.function_name = $1::text), 0) + 1 as ok
),
leased as (
  select i.request_id, i.due_at, i.seq, i.status, i.created_at, i.delivery, true as held
  from {{schema}}.invocations i
  where i.function_name = $1::text and i.due_at is not null and i.lease_token is not null and i.due_at <= $4::bigint
  order by i.due_at, i.seq
  limit $2::integer
  for no key update skip locked
),
free as (
  select i.request_id, i.due_at, i.seq, i.status, i.created_at, i.delivery, false as held
  from {{schema}}.invocations i
  where i.function_name = $1::text and i.due_at is not null and i.lease_token is null and i.due_at <= $4::bigint
  order by i.due_at, i.seq
  limit $2::integer
  for no key update skip locked
),
kinds as (
  select request_id, due_at, seq, held, created_at,
    case
      when status in ('Enqueued', 'Retrying') then
        case when $4::bigint - created_at > $3::bigint then 'expire' else 'run' end
      when status in ('Running', 'Stopping') then 'recover'
      when delivery->>'status' = 'Pending' then 'deliver'
    end as kind
  from (select * from leased union all select * from free) c
),
-- The candidates in claim order, with what the gate counts (ClaimGate, claim-gate.ts): a run of
-- free work starts (counted as running, and in the start window); an expired lease taken over
-- counts as running when it is a run's (recover, or a run again); nothing else counts. A run of
-- free work is refused once the attempts counted before it reach concurrency, or the starts
-- reach perSecond; the claim stops at the first refusal.
ordered as (
  select k.*,
    row_number() over w - 1 as i,
    coalesce(sum(case when k.kind = 'run' or (k.held and k.kind = 'recover') then 1 else 0 end) over before, 0) as counted_before,
    coalesce(sum(case when k.kind = 'run' and not k.held then 1 else 0 end) over before, 0) as started_before
  from kinds k
  where k.kind is not null
  window w as (order by k.due_at, k.held desc, k.seq),
    before as (w rows between unbounded preceding and 1 preceding)
),
-- Running attempts (leased for a run, lease not lapsed, not ended), counted up to concurrency
-- (more refuses the same), and the earliest of their lease ends; the starts of the last second,
-- oldest first. Read in lease order through the leased range of the work index, stopping at
-- concurrency: an index scan, which marks the entries of rows already settled dead as it passes
-- them (a bitmap scan would not, and every claim would visit again the rows of every claim made
-- within the last lease time until a vacuum).
counts as (
  select r.running, r.frees_at,
    (select coalesce(array_agg(s.at order by s.at), '{}') from {{schema}}.limit_starts s
     where $7::integer is not null and s.function_name = $1::text and s.at > $4::bigint - 1000) as starts
  from (
    select count(*) as running, min(l.due_at) as frees_at from (
      select i.due_at from {{schema}}.invocations i
      where $6::integer is not null and i.function_name = $1::text and i.due_at > $4::bigint and i.lease_token is not null
        -- status wrapped so the planner cannot read it from the status index, whose entries of
        -- every Running row version not yet vacuumed it would scan (tens of thousands under load).
        and coalesce(i.status, '') in ('Running', 'Stopping')
        -- A hashed subplan, built once: the ended can be hundreds (every settlement batch on the
        -- way), and "<> all($8)" compared each row with each of them (~2 ms a claim at 64).
        and i.lease_token not in (select unnest($8::text[]))
      order by i.due_at
      limit $6::integer) l) r
),
refusal as (
  select o.i, o.created_at,
    case when $6::integer is not null and (select running from counts) + o.counted_before >= $6::integer then 'concurrency' else 'rate' end as reason,
    o.started_before
  from ordered o
  where o.kind = 'run' and not o.held and o.i < $2::integer
    and (($6::integer is not null and (select running from counts) + o.counted_before >= $6::integer)
      or ($7::integer is not null and cardinality((select starts from counts)) + o.started_before >= $7::integer))
  order by o.i
  limit 1
),
picked as (
  select o.request_id, o.kind, o.held, o.i as o
  from ordered o
  where o.i < $2::integer and o.i < coalesce((select r.i from refusal r), $2::integer)
),
fits as (
  select (select ok from fresh)
    -- Final rows owing nothing leave the work index the general way.
    and not exists (select 1 from kinds k where k.kind is null) as ok
),
claimed as (
  update {{schema}}.invocations i set
    lease_token = gen_random_uuid()::text,
    due_at = $4::bigint + $5::bigint,
    status = case when p.kind = 'run' then 'Running' else i.status end,
    attempts = case when p.kind = 'run' then i.attempts + 1 else i.attempts end,
    started_at = case when p.kind = 'run' then coalesce(i.started_at, $4::bigint) else i.started_at end,
    events = case when p.kind = 'run'
      then i.events || jsonb_build_array(jsonb_build_object('at', $4::bigint, 'status', 'Running', 'attempt', i.attempts + 1))
      else i.events end
  from picked p
  -- Through the primary key whatever the statistics say (see settle.sql).
  where i.request_id = p.request_id and i.request_id = any(array(select p.request_id from picked p)) and (select ok from fits)
  returning p.kind, p.o, {{record_columns}}
),
new_starts as (
  insert into {{schema}}.limit_starts (function_name, at)
  select $1::text, $4::bigint from picked p
  where $7::integer is not null and p.kind = 'run' and not p.held and (select ok from fits)
),
old_starts as (
  delete from {{schema}}.limit_starts s
  where $7::integer is not null and (select ok from fits) and s.function_name = $1::text and s.at <= $4::bigint - 10000
),
-- The first of each range of the work index that this claim leaves.
next_due as (
  select min(n.due_at) as at from (
    (select i.due_at from {{schema}}.invocations i
     where i.function_name = $1::text and i.due_at is not null and i.lease_token is null
       and not exists (select 1 from picked p where p.request_id = i.request_id)
     order by i.due_at limit 1)
    union all
    (select i.due_at from {{schema}}.invocations i
     where i.function_name = $1::text and i.due_at is not null and i.lease_token is not null
       and not exists (select 1 from picked p where p.request_id = i.request_id)
     order by i.due_at limit 1)
    union all
    (select $4::bigint + $5::bigint from picked limit 1)) n
),
-- HeldBack: the refused run's expiry by age; for rate, when the oldest start of the window (its
-- starts, then this claim's, all at now) leaves it; else when the earliest running lease lapses.
held_back as (
  select r.reason, r.created_at + $3::bigint + 1 as expires_at,
    case when r.reason = 'rate' then
      coalesce((select starts from counts)[cardinality((select starts from counts)) + r.started_before - $7::integer + 1], $4::bigint) + 1000
    end as retry_at,
    case when r.reason <> 'rate' then (select frees_at from counts) end as frees_at
  from refusal r
)
select (select ok from fits) as fits, c.*, d.at as next_due,
  h.reason as held_reason, h.expires_at as held_expires_at, h.retry_at as held_retry_at, h.frees_at as held_frees_at
from next_due d
left join held_back h on true
left join claimed c on true
order by c.o
