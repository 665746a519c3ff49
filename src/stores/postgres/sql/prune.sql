-- Removes finished invocations with nothing owed: those that ended before $1, and all but the
-- newest $2. The cutoff (the first row past the $2 kept) is found by walking the
-- invocations_finished index newest first, and the rows at or past it are read from the same
-- index: no sort, and no scan of unfinished rows. The predicate below is that index's. Rows with
-- no ended_at count as the oldest (the index's "nulls last"). Their logs go along: log_counters
-- and logs are deleted by their foreign keys' cascade, in this statement. Activity counters of
-- minutes before $3 go too (ACTIVITY_RETENTION_MS, as the other stores drop them in a pass).
-- $1 bigint: age cutoff (ended_at < $1); $2 integer: how many to keep; $3 bigint: activity cutoff.
-- Returns the number of invocations removed.
with cutoff as (
  select i.ended_at, i.request_id
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
      or (i.ended_at, i.request_id) <= (select c.ended_at, c.request_id from cutoff c)
      or (i.ended_at is null and (select c.ended_at is not null or i.request_id <= c.request_id from cutoff c)))
  returning 1
),
-- Runs whether or not the final select reads it (a data-modifying WITH always does).
old_activity as (
  delete from {{schema}}.activity a where a.minute < $3::bigint
)
select count(*)::integer as removed from removed
