-- The invocations table and its indexes. Times are epoch milliseconds (bigint) from the
-- invoker's clock, never the server's. request_id uses the "C" collation so that list order
-- (and the cursor tie-break) matches JavaScript string order in every database locale.
create table {{schema}}.invocations (
  request_id    text collate "C" primary key,
  function_name text not null,
  status        text not null,
  payload       jsonb not null,
  attempts      integer not null default 0,
  created_at    bigint not null,
  scheduled_at  bigint not null,
  started_at    bigint,
  ended_at      bigint,
  -- SQL NULL = no result; the JSON value null is stored as jsonb 'null'.
  result        jsonb,
  error         jsonb,
  condition     text,
  invocation_id text,
  -- Canonical payload JSON: a repeated invocation_id with an equal key is a duplicate.
  payload_key   text,
  events        jsonb not null,
  due_at        bigint,
  lease_token   text,
  throttles     integer not null default 0,
  hops          integer not null default 0,
  delivery      jsonb,
  unique (function_name, invocation_id)
);

-- Claims: due work per function, oldest first. Only rows with something to do are indexed.
create index invocations_due on {{schema}}.invocations (function_name, due_at) where due_at is not null;

-- Listing, newest first, overall and per function; status filters.
create index invocations_list on {{schema}}.invocations (created_at desc, request_id desc);
create index invocations_function_list on {{schema}}.invocations (function_name, created_at desc, request_id desc);
create index invocations_status on {{schema}}.invocations (status, created_at desc, request_id desc);

-- Retention: finished invocations with nothing owed, by end time.
create index invocations_finished on {{schema}}.invocations (ended_at)
  where due_at is null and lease_token is null;
