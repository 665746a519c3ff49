-- Claims due work of slots without limits in one statement: per function its expired leases and
-- its free rows in one order, oldest due_at first (an expired lease first on a tie, equal due
-- times in insertion order, seq), skipping rows another claimer holds locked, at most n per
-- function and $4 in total (shared out in slot order), leased with a fresh token.
-- The claim kinds are those of record-rules.ts: run / expire / recover / deliver. A due row of
-- none of these kinds (final, nothing owed) leaves the work index, as in the memory store: its
-- due_at is cleared (left, it would head every claim and be reported as the next due time, again
-- and again: a spin) and so is a lapsed lease it still carries (so retention can prune it).
-- Rows are locked "for no key update", the lock the update takes anyway, not "for update": that
-- one conflicts with the key share lock an append of log lines holds on its invocation
-- (append-logs.sql), and the claim would skip a row because it is logging.
-- $1 jsonb: [{ f: function name, n: per-function limit, age: max event age ms, o: slot position }]
-- Its values are read through scalar subqueries, (select $n): planned without them, the plan made
-- with them costs the same, so the server keeps one generic plan for the prepared statement. Planned
-- with them, it was planned again at every call (PostgreSQL's estimate for one slot looked cheaper):
-- ~1 ms of a ~1.4 ms claim at concurrency 1.
-- $2 bigint: now; $3 bigint: lease ms; $4 integer: total limit; $5 text[]: invocations this
-- statement settles (settle-claim, statements.ts), never claimed by it: one statement must not
-- write a row twice, and a lapsed lease settled by its holder is not lost.
-- Returns one row per claimed record (kind, was_due, record columns), each with next_due: the
-- earliest due_at among the functions' rows neither claimed nor cleared here, and cleared: how
-- many rows left the work index. With nothing claimed, one row with a null kind carries both.
with slots as (
  select * from jsonb_to_recordset($1::jsonb) as s(f text, n integer, age bigint, o integer)
  -- A row count for the planner below a set-returning function's 100 (it takes a tenth of that).
  limit (select jsonb_array_length($1::jsonb))
),
-- Per slot, up to n expired leases (their workers are gone) and up to n free rows, each in claim
-- order, from its range of the work index (invocations_work_leased / _free, 006_insertion_order.sql).
leased as (
  select c.*, s.age, s.o, s.n, true as held
  from slots s
  cross join lateral (
    select i.request_id, i.due_at, i.seq, i.status, i.created_at, i.delivery
    from {{schema}}.invocations i
    where i.function_name = s.f and i.due_at is not null and i.lease_token is not null and i.due_at <= (select $2::bigint)
      and i.request_id <> all($5::text[])
    order by i.due_at, i.seq
    limit s.n
    for no key update skip locked
  ) c
),
free as (
  select c.*, s.age, s.o, s.n, false as held
  from slots s
  cross join lateral (
    select i.request_id, i.due_at, i.seq, i.status, i.created_at, i.delivery
    from {{schema}}.invocations i
    where i.function_name = s.f and i.due_at is not null and i.lease_token is null and i.due_at <= (select $2::bigint)
    order by i.due_at, i.seq
    limit s.n
    for no key update skip locked
  ) c
),
kinds as (
  select request_id, due_at, seq, o, n, held,
    case
      when status in ('Enqueued', 'Retrying') then
        case when (select $2::bigint) - created_at > age then 'expire' else 'run' end
      when status in ('Running', 'Stopping') then 'recover'
      when delivery->>'status' = 'Pending' then 'deliver'
    end as kind
  from (select * from leased union all select * from free) c
),
-- As the memory and SQLite stores claim: a slot takes expired leases and free work merged in
-- claim order, up to its limit; the total ($4) is shared out in slot order (the first $4 in that
-- order: each slot takes what the slots before it left).
ranked as (
  select request_id, due_at, kind, o, n,
    row_number() over (partition by o order by due_at, held desc, seq) as r
  from kinds
  where kind is not null
),
picked as (
  select request_id, due_at as was_due, kind
  from ranked
  where r <= n
  order by o, r
  limit (select $4::integer)
),
claimed as (
  update {{schema}}.invocations i set
    lease_token = gen_random_uuid()::text,
    due_at = (select $2::bigint) + $3::bigint,
    status = case when p.kind = 'run' then 'Running' else i.status end,
    attempts = case when p.kind = 'run' then i.attempts + 1 else i.attempts end,
    started_at = case when p.kind = 'run' then coalesce(i.started_at, (select $2::bigint)) else i.started_at end,
    events = case when p.kind = 'run'
      then i.events || jsonb_build_array(jsonb_build_object('at', (select $2::bigint), 'status', 'Running', 'attempt', i.attempts + 1))
      else i.events end
  from picked p
  -- Through the primary key whatever the statistics say (see settle.sql).
  where i.request_id = p.request_id and i.request_id = any(array(select p.request_id from picked p))
  returning p.kind, p.was_due, {{record_columns}}
),
-- Runs whether or not the final select reads it (a data-modifying WITH always does).
cleared as (
  update {{schema}}.invocations i set due_at = null, lease_token = null
  where i.request_id = any(array(select k.request_id from kinds k where k.kind is null))
  returning i.request_id
),
-- The first of each range of the work index that this claim leaves.
next_due as (
  select min(n.due_at) as at
  from slots s
  cross join lateral (
    (select i.due_at from {{schema}}.invocations i
     where i.function_name = s.f and i.due_at is not null and i.lease_token is null
       and not exists (select 1 from picked p where p.request_id = i.request_id)
       and not exists (select 1 from kinds k where k.request_id = i.request_id and k.kind is null)
     order by i.due_at
     limit 1)
    union all
    (select i.due_at from {{schema}}.invocations i
     where i.function_name = s.f and i.due_at is not null and i.lease_token is not null
       and not exists (select 1 from picked p where p.request_id = i.request_id)
       and not exists (select 1 from kinds k where k.request_id = i.request_id and k.kind is null)
     order by i.due_at
     limit 1)
  ) n
)
-- answer
select c.*, d.at as next_due, (select count(*) from cleared)::integer as cleared
from next_due d left join claimed c on true
order by c.was_due, c.request_id
