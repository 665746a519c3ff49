-- The earliest due_at among the given functions' rows, read after a claim in a fresh snapshot,
-- so that work settled while the claim ran is seen (a wake-up for it may have fired meanwhile).
-- The first of each range of the work index (free work, leases: 006_insertion_order.sql).
-- $1 text[]: function names, read through a scalar subquery so that the plan made with them costs
-- what the generic one does and the server keeps that one (see claim.sql).
-- Returns one row: at (the earliest due_at, null when none is due).
select min(n.due_at) as at
from unnest((select $1::text[])) as f(name)
cross join lateral (
  (select i.due_at from {{schema}}.invocations i
   where i.function_name = f.name and i.due_at is not null and i.lease_token is null
   order by i.due_at
   limit 1)
  union all
  (select i.due_at from {{schema}}.invocations i
   where i.function_name = f.name and i.due_at is not null and i.lease_token is not null
   order by i.due_at
   limit 1)
) n
