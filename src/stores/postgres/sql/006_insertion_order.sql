-- Claims take equal due times in insertion order, as the memory store (its `order` counter) and
-- SQLite (rowid) do: seq numbers rows as they are inserted (an enqueue's batch in its order).
-- Rows already there are numbered in table order.
alter table {{schema}}.invocations add column if not exists seq bigserial;

-- The work index in claim order, (due_at, seq), free work and leases apart: a claim reads each
-- as a range, so reading expired leases never walks past a backlog of free work, nor free work
-- past the running attempts' leases. They replace invocations_due (001) and
-- invocations_due_leased (004), which had no tie-break.
drop index if exists {{schema}}.invocations_due;
drop index if exists {{schema}}.invocations_due_leased;
create index if not exists invocations_work_free on {{schema}}.invocations (function_name, due_at, seq)
  where due_at is not null and lease_token is null;
create index if not exists invocations_work_leased on {{schema}}.invocations (function_name, due_at, seq)
  where due_at is not null and lease_token is not null;
