-- What a limited claim counts before it takes anything (ClaimGate): the running attempts (leased
-- for a run, lease not lapsed, not ended) per group with the earliest of their lease ends, the
-- starts of the last second, and the latest place in the groups' round-robin; and the function's
-- earliest due time (the claim's answer when it changes nothing). Start rows ten seconds old go:
-- a process whose now lags a little still counts the starts of a process ahead of it.
-- $1 text: function; $2 bigint: now; $3 boolean: count running attempts; $4 boolean: read starts;
-- $5 text[]: lease tokens of attempts that ended, their settlements on the way (not running).
-- Returns one row: running (jsonb [[group key ('' for none), count, earliest lease end]]), starts
-- (bigint[], oldest first), last_started (bigint), next_due (bigint, null for none).
with old_starts as (
  delete from {{schema}}.limit_starts s
  where $4::boolean and s.function_name = $1::text and s.at <= $2::bigint - 10000
)
select
  (select coalesce(jsonb_agg(jsonb_build_array(r.g, r.n, r.ends)), '[]'::jsonb)
   from (select coalesce(i.group_key, '') as g, count(*) as n, min(i.due_at) as ends
         from {{schema}}.invocations i
         where $3::boolean and i.function_name = $1::text and i.due_at > $2::bigint and i.lease_token is not null
           -- status wrapped: not read from the status index (see limit-fast.sql).
           and coalesce(i.status, '') in ('Running', 'Stopping')
           -- Hashed once, as in limit-fast.sql: the ended can be hundreds.
           and i.lease_token not in (select unnest($5::text[]))
         group by 1) r) as running,
  (select coalesce(array_agg(s.at order by s.at), '{}')
   from {{schema}}.limit_starts s
   where $4::boolean and s.function_name = $1::text and s.at > $2::bigint - 1000) as starts,
  (select coalesce(max(g.last_started), 0)
   from {{schema}}.limit_groups g where g.function_name = $1::text) as last_started,
  -- The first of each range of the work index.
  (select min(n.due_at) from (
     (select i.due_at from {{schema}}.invocations i
      where i.function_name = $1::text and i.due_at is not null and i.lease_token is null
      order by i.due_at limit 1)
     union all
     (select i.due_at from {{schema}}.invocations i
      where i.function_name = $1::text and i.due_at is not null and i.lease_token is not null
      order by i.due_at limit 1)) n) as next_due
