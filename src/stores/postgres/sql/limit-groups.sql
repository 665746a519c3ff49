-- A grouped function's groups with due free work: each group's first $3 due rows (locked) and
-- its round-robin place. The groups are found by a skip-scan of invocations_work_groups (one
-- seek per group with free work), not by reading the backlog.
-- $1 text: function; $2 bigint: now; $3 integer: rows per group.
-- Returns per row: group_id (the group key as stored, '' for adopted groupless work),
-- last_started (0: never, or forgotten), the row's columns (record-columns.sql) and seq; ordered
-- by group, then claim order.
with recursive g(k) as (
  (select i.group_key from {{schema}}.invocations i
   where i.function_name = $1::text and i.due_at is not null and i.lease_token is null and i.group_key is not null
   order by i.group_key
   limit 1)
  union all
  select (select i.group_key from {{schema}}.invocations i
          where i.function_name = $1::text and i.due_at is not null and i.lease_token is null and i.group_key > g.k
          order by i.group_key
          limit 1)
  from g where g.k is not null
),
heads as (
  select g.k as group_id, h.*
  from g
  cross join lateral (
    select {{record_columns}}, i.seq
    from {{schema}}.invocations i
    where i.function_name = $1::text and i.group_key = g.k
      and i.due_at is not null and i.lease_token is null and i.due_at <= $2::bigint
    order by i.due_at, i.seq
    limit $3::integer
    for no key update skip locked
  ) h
  where g.k is not null
)
select h.*, coalesce(lg.last_started, 0) as last_started
from heads h
left join {{schema}}.limit_groups lg on lg.function_name = $1::text and lg.group_key = h.group_id
order by h.group_id, h.due_at, h.seq
