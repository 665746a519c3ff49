-- Flow control (function limits), decided inside the claim while it holds the function's lock
-- (limited-claim.ts, limit-fast.sql), with the SQLite store's tables and rules.

-- One row per function with limits: a claim locks it for its transaction (limit-lock.sql), so
-- the claims of one function, in any process, decide one after another; each bumps version, so
-- a claim made in one statement can tell that another committed after its snapshot.
create table if not exists {{schema}}.limit_functions (
  function_name text collate "C" primary key,
  version       bigint not null
);

-- The fairness group of a grouped function's invocation (limits.groupBy, 1 to 256 characters);
-- null for ungrouped work. '' marks work enqueued without a group that a grouped claim adopted
-- (served as one group of its own; records show no groupKey for it).
alter table {{schema}}.invocations add column if not exists group_key text collate "C";

-- Grouped work per group, in claim order: the groups that have free work, each one's head, and
-- its next ones. Partial, so ungrouped functions pay nothing for it.
create index if not exists invocations_work_groups on {{schema}}.invocations (function_name, group_key, due_at, seq)
  where due_at is not null and lease_token is null and group_key is not null;

-- Starts of a rate-limited function's attempts (limits.perSecond), across processes; the claims
-- that read them delete rows ten seconds old.
create table if not exists {{schema}}.limit_starts (
  function_name text not null,
  at            bigint not null
);
create index if not exists limit_starts_function on {{schema}}.limit_starts (function_name, at);

-- Round-robin between groups: the order in which each group with free work last started an
-- attempt (a per-function sequence; a group that never started, or had no free work at the end
-- of a claim, has no row and goes first).
create table if not exists {{schema}}.limit_groups (
  function_name text not null,
  group_key     text collate "C" not null,
  last_started  bigint not null,
  primary key (function_name, group_key)
);
