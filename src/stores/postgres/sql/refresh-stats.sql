-- Analyzes the invocations table when the planner's picture of it lags far behind: never
-- analyzed, or more than twice the pages it had when last analyzed or vacuumed. A prepared
-- statement keeps the generic plan it made in its first calls; made while the table held a page
-- or two, that plan reads the whole table where the primary key finds the row (on a page or two a
-- scan is cheaper), and it is kept as the table grows, until the table is analyzed and the plans
-- are made again. Autovacuum analyzes a table a minute or more after it changed: the whole of a
-- short run. Cheap when there is nothing to do (one read of pg_class). ANALYZE reads a sample of
-- the columns the store's statements filter, join and sort on (the JSON columns, the costliest to
-- analyze, are in no condition), and sets the table's size as a full one would. SKIP_LOCKED: when
-- a vacuum or another analyze holds the table, this one is skipped (a warning), not queued behind it.
do $$
begin
  if exists (
    select 1 from pg_class c
    where c.oid = '{{schema}}.invocations'::regclass
      and (c.reltuples < 0 or pg_relation_size(c.oid) > 2 * greatest(c.relpages, 1)::bigint * current_setting('block_size')::bigint)
  ) then
    analyze (skip_locked) {{schema}}.invocations (request_id, function_name, status, due_at, lease_token, seq, group_key,
      created_at, ended_at, invocation_id);
  end if;
end
$$
