-- Writes what a limited claim decided (limited-claim.ts), in the transaction that holds the
-- function's lock: leases the rows it took (the claim kinds of record-rules.ts, as claim.sql
-- does), takes the rows it found owing nothing out of the work index, adds the attempts it
-- started to the start window, and keeps the groups' round-robin places: those of the groups it
-- started, and none for a group left without free work (it goes first when work comes again).
-- This statement's snapshot predates its own writes: rows it takes or clears count as gone, here
-- and in the earliest due time it reports (what it took is due when its lease ends).
-- $1 jsonb: [{ r: request id, k: kind, o: take order }]; $2 text[]: request ids cleared;
-- $3 bigint: now; $4 bigint: lease ms; $5 text: function; $6 bigint[]: starts to add;
-- $7 jsonb: [{ g: group id, s: its new last_started }]; $8 boolean: grouped (keep places).
-- Returns per row taken: kind and the record's columns (record-columns.sql), in take order, each
-- with next_due (the function's earliest due time after the claim); with nothing taken, one row
-- with a null kind carries next_due.
with taken as (
  select * from jsonb_to_recordset($1::jsonb) as t(r text, k text, o integer)
),
started_groups as (
  select * from jsonb_to_recordset($7::jsonb) as s(g text, s bigint)
),
claimed as (
  update {{schema}}.invocations i set
    lease_token = gen_random_uuid()::text,
    due_at = $3::bigint + $4::bigint,
    status = case when t.k = 'run' then 'Running' else i.status end,
    attempts = case when t.k = 'run' then i.attempts + 1 else i.attempts end,
    started_at = case when t.k = 'run' then coalesce(i.started_at, $3::bigint) else i.started_at end,
    events = case when t.k = 'run'
      then i.events || jsonb_build_array(jsonb_build_object('at', $3::bigint, 'status', 'Running', 'attempt', i.attempts + 1))
      else i.events end
  from taken t
  -- Through the primary key whatever the statistics say (see settle.sql).
  where i.request_id = t.r and i.request_id = any(array(select t.r from taken t))
  returning t.k as kind, t.o, {{record_columns}}
),
cleared as (
  update {{schema}}.invocations i set due_at = null, lease_token = null
  where i.request_id = any($2::text[])
),
new_starts as (
  insert into {{schema}}.limit_starts (function_name, at)
  select $5::text, a from unnest($6::bigint[]) as a
),
known_groups as (
  select lg.group_key as g from {{schema}}.limit_groups lg where $8::boolean and lg.function_name = $5::text
  union
  select s.g from started_groups s where $8::boolean
),
idle_groups as (
  select k.g from known_groups k
  where not exists (
    select 1 from {{schema}}.invocations i
    where i.function_name = $5::text and i.group_key = k.g and i.due_at is not null and i.lease_token is null
      and i.request_id <> all(array(select t.r from taken t)) and i.request_id <> all($2::text[]))
),
forgotten as (
  delete from {{schema}}.limit_groups lg
  where lg.function_name = $5::text and lg.group_key in (select g from idle_groups)
),
remembered as (
  insert into {{schema}}.limit_groups as lg (function_name, group_key, last_started)
  select $5::text, s.g, s.s from started_groups s
  where s.g not in (select g from idle_groups)
  on conflict (function_name, group_key) do update set last_started = excluded.last_started
),
next_due as (
  select min(n.due_at) as at from (
    (select i.due_at from {{schema}}.invocations i
     where i.function_name = $5::text and i.due_at is not null and i.lease_token is null
       and i.request_id <> all(array(select t.r from taken t)) and i.request_id <> all($2::text[])
     order by i.due_at limit 1)
    union all
    (select i.due_at from {{schema}}.invocations i
     where i.function_name = $5::text and i.due_at is not null and i.lease_token is not null
       and i.request_id <> all(array(select t.r from taken t)) and i.request_id <> all($2::text[])
     order by i.due_at limit 1)
    union all
    (select $3::bigint + $4::bigint from taken limit 1)) n
)
select c.*, d.at as next_due from next_due d left join claimed c on true order by c.o
