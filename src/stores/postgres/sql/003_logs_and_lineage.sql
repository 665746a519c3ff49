-- Wave 2: execution logs, lookup and listing by invocation id, and the fields an invocation
-- keeps from its creation (rerunOf, traceContext).

-- rerun_of: the request id this invocation re-runs; trace_context: the W3C trace context it was
-- created in (opaque). invocation_id takes the "C" collation, as request_id has: listing by an
-- invocation-id prefix is a range (id >= prefix and id < prefix || chr(127)), which holds in
-- byte order only (a locale's collation ignores '_' and '-' at first, and chr(127) altogether).
-- Equality, and so the idempotency constraint, is unchanged; its index is rebuilt in byte order,
-- so it also serves a prefix listing within one function.
alter table {{schema}}.invocations
  add column rerun_of text,
  add column trace_context text,
  alter column invocation_id type text collate "C";

-- Listing by invocation-id prefix across functions: a range over this index.
create index invocations_invocation_id on {{schema}}.invocations (invocation_id) where invocation_id is not null;

-- Each invocation's log state, created by its first append: seq is the last line number given
-- (lines the writer dropped take numbers too), dropped how many lines are gone (dropped by the
-- writer, or the oldest, to stay within the bounds), logged and logged_bytes how many lines were
-- logged in all, not counting those the writer dropped, and their bytes (as logLineBytes counts
-- them). A table of its own, not columns of invocations: appends lock this row, never the
-- invocation's (claims, settlements and heartbeats never wait for logs). It goes with its
-- invocation, and takes the invocation's lines along.
create table {{schema}}.log_counters (
  request_id   text collate "C" primary key references {{schema}}.invocations (request_id) on delete cascade,
  seq          bigint not null,
  dropped      bigint not null,
  logged       bigint not null,
  logged_bytes bigint not null
);

-- One row per kept line; seq counts from 1 per invocation. nth and bytes_before place the line
-- among the lines logged (its number, and the bytes logged before it, as log_counters counts
-- them): a line is within the bounds while nth > logged - maxLines and bytes_before >=
-- logged_bytes - maxBytes, so the lines past them are found without summing sizes.
create table {{schema}}.logs (
  request_id   text collate "C" not null references {{schema}}.log_counters (request_id) on delete cascade,
  seq          bigint not null,
  nth          bigint not null,
  bytes_before bigint not null,
  at           bigint not null,
  attempt      integer not null,
  level        text not null,
  message      text not null,
  -- SQL NULL = the line has no data; the JSON value null is stored as jsonb 'null'.
  data         jsonb,
  -- logLineBytes of the line, computed by the store's caller: SQL never measures JSON.
  bytes        integer not null,
  primary key (request_id, seq)
);
