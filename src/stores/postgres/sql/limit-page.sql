-- The next due rows of one range of a limited function's work, in claim order (due_at, seq),
-- past a cursor, locked: its expired leases, its free work, or one group's free work.
-- $1 text: function; $2 text: range ('leased' | 'free' | 'group'); $3 text: group key (for
-- 'group'); $4 bigint: now; $5 bigint, $6 bigint: the cursor (due_at, seq), null from the start;
-- $7 integer: at most this many.
-- Returns the rows' columns (record-columns.sql) and seq, in claim order.
with leased as (
  select {{record_columns}}, i.seq
  from {{schema}}.invocations i
  where $2::text = 'leased' and i.function_name = $1::text
    and i.due_at is not null and i.lease_token is not null and i.due_at <= $4::bigint
    and ($5::bigint is null or (i.due_at, i.seq) > ($5::bigint, $6::bigint))
  order by i.due_at, i.seq
  limit $7::integer
  for no key update skip locked
),
free as (
  select {{record_columns}}, i.seq
  from {{schema}}.invocations i
  where $2::text = 'free' and i.function_name = $1::text
    and i.due_at is not null and i.lease_token is null and i.due_at <= $4::bigint
    and ($5::bigint is null or (i.due_at, i.seq) > ($5::bigint, $6::bigint))
  order by i.due_at, i.seq
  limit $7::integer
  for no key update skip locked
),
grouped as (
  select {{record_columns}}, i.seq
  from {{schema}}.invocations i
  where $2::text = 'group' and i.function_name = $1::text and i.group_key = $3::text
    and i.due_at is not null and i.lease_token is null and i.due_at <= $4::bigint
    and ($5::bigint is null or (i.due_at, i.seq) > ($5::bigint, $6::bigint))
  order by i.due_at, i.seq
  limit $7::integer
  for no key update skip locked
)
select * from leased
union all select * from free
union all select * from grouped
order by due_at, seq
