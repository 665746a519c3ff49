-- Drops the oldest lines of logs past their bounds, and counts them: for the items append-logs.sql
-- returned (another append committed while it waited, and its snapshot missed that append's
-- lines). The same rule, locks and order as there, on a newer snapshot.
-- $1 jsonb: [{ request_id, max_lines, max_bytes }]
-- Returns one row: trimmed (how many logs lost lines).
with input as (
  select * from jsonb_to_recordset($1::jsonb) as x(request_id text, max_lines bigint, max_bytes bigint)
  limit jsonb_array_length($1::jsonb) -- the planner's row count (see append-logs.sql)
),
live as (
  select i.request_id from {{schema}}.invocations i
  where i.request_id in (select x.request_id from input x)
  order by i.request_id
  for key share skip locked
),
held as (
  select c.request_id, c.logged, c.logged_bytes from {{schema}}.log_counters c
  where c.request_id in (select v.request_id from live v)
  order by c.request_id
  for no key update
),
keep_from as materialized (
  select h.request_id, coalesce((
    select l.seq from {{schema}}.logs l
    where l.request_id = h.request_id
      and l.nth > h.logged - x.max_lines and l.bytes_before >= h.logged_bytes - x.max_bytes
    order by l.seq
    limit 1
  ), 9223372036854775807) as seq
  from held h
  join input x on x.request_id = h.request_id
),
deleted as (
  delete from {{schema}}.logs l
  where l.ctid = any(array(
    select unnest(array(
      select g.ctid from {{schema}}.logs g where g.request_id = k.request_id and g.seq < k.seq
    ))
    from keep_from k))
  returning l.request_id
),
gone as (
  select d.request_id, count(*) as n from deleted d group by d.request_id
),
counted as (
  update {{schema}}.log_counters c set dropped = c.dropped + g.n
  from gone g
  where c.request_id = g.request_id
  returning c.request_id
)
select count(*)::integer as trimmed from counted
