-- The idempotency index holds only invocations that have an invocation id: most have none, and
-- each of those cost every enqueue an index entry that no lookup reads. Enqueues conflict on it
-- as before (on conflict do nothing infers any unique index); lookups by invocation id
-- (find-by-invocation-id.sql, find-idempotent.sql, enqueue.sql, list.sql's prefix within one
-- function) compare invocation_id with a value, so the partial index serves them. On a large
-- table the first start of this version takes as long as building it.
create unique index if not exists invocations_idempotency on {{schema}}.invocations (function_name, invocation_id)
  where invocation_id is not null;
alter table {{schema}}.invocations drop constraint if exists invocations_function_name_invocation_id_key;
