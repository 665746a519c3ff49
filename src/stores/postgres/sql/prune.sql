-- Removes finished invocations with nothing owed: those that ended before $1, then all but the
-- newest $2. Returns the number removed.
-- $1 bigint: age cutoff (ended_at < $1); $2 integer: how many to keep.
with finished as (
  select i.request_id, i.ended_at,
    row_number() over (order by i.ended_at desc nulls last, i.request_id desc) as rank
  from {{schema}}.invocations i
  where i.due_at is null and i.lease_token is null
    and i.status in ('Succeeded', 'Failed', 'Stopped', 'Expired', 'Invalid')
),
removed as (
  delete from {{schema}}.invocations i
  using finished f
  where i.request_id = f.request_id and (f.ended_at < $1::bigint or f.rank > $2::integer)
  returning 1
)
select count(*)::integer as removed from removed
