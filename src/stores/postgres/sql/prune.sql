-- Removes finished invocations with nothing owed: those that ended before $1, and all but the
-- newest $2. The cutoff (the first row past the $2 kept) is found by walking the
-- invocations_finished index newest first, with no sort of every finished row; the predicate
-- below is that index's. Rows with no ended_at count as the oldest (-1: ended_at is epoch ms).
-- $1 bigint: age cutoff (ended_at < $1); $2 integer: how many to keep.
-- Returns the number removed.
with cutoff as (
  select coalesce(i.ended_at, -1) as ended_at, i.request_id
  from {{schema}}.invocations i
  where i.due_at is null and i.lease_token is null
    and i.status in ('Succeeded', 'Failed', 'Stopped', 'Expired', 'Invalid')
  order by i.ended_at desc nulls last, i.request_id desc
  offset $2::integer
  limit 1
),
removed as (
  delete from {{schema}}.invocations i
  where i.due_at is null and i.lease_token is null
    and i.status in ('Succeeded', 'Failed', 'Stopped', 'Expired', 'Invalid')
    and (i.ended_at < $1::bigint
      or (coalesce(i.ended_at, -1), i.request_id) <= (select c.ended_at, c.request_id from cutoff c))
  returning 1
)
select count(*)::integer as removed from removed
