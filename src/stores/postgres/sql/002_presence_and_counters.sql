-- Issue 11: attempts lost to the system are counted apart from the user's retries, workers
-- announce their presence, and retention reads the newest finished rows from an index.

-- Attempts lost to a worker that died (WorkerLost) and attempts interrupted by a worker shutting
-- down (WorkerShutdown): written by settlements like throttles.
alter table {{schema}}.invocations
  add column lost_attempts integer not null default 0,
  add column interrupted_attempts integer not null default 0;

-- Worker presence: one row per live worker invoker, renewed by announcing again. expires_at is
-- the invoker's clock (epoch ms); lapsed rows are dropped when presences are read.
create table {{schema}}.workers (
  worker_id  text primary key,
  expires_at bigint not null,
  -- The WorkerPresence as announced (functions, host, pid, concurrency, startedAt).
  presence   jsonb not null
);

-- Retention keeps the newest maxCount finished rows: walk them newest first from an index (the
-- order prune.sql uses) instead of sorting every finished row on each pass.
drop index {{schema}}.invocations_finished;
create index invocations_finished on {{schema}}.invocations (ended_at desc nulls last, request_id desc)
  where due_at is null and lease_token is null
    and status in ('Succeeded', 'Failed', 'Stopped', 'Expired', 'Invalid');
