-- 005: flow control (function limits), decided inside the claim under the file's write lock.

-- The fairness group of a grouped function's invocation (limits.groupBy); NULL for ungrouped
-- work. '' marks work enqueued without a group that a grouped claim adopted (served as one group).
ALTER TABLE invocations ADD COLUMN group_key TEXT;

-- Grouped work per group: the head of each group, and the groups that have work. Partial, so
-- ungrouped functions pay nothing for it.
CREATE INDEX invocations_group_due ON invocations (function_name, leased, group_key, due_at)
  WHERE due_at IS NOT NULL AND group_key IS NOT NULL;

-- Starts of a rate-limited function's attempts in the last second (limits.perSecond), across
-- processes; rows ten seconds old are deleted by the claims that read them.
CREATE TABLE limit_starts (
  function_name TEXT NOT NULL,
  at            INTEGER NOT NULL
);
CREATE INDEX limit_starts_function ON limit_starts (function_name, at);

-- Round-robin between groups: the order in which each group with waiting work last started an
-- attempt (a per-function sequence; a group that has never started, or had no waiting work at
-- the end of a claim, has no row and goes first).
CREATE TABLE limit_groups (
  function_name TEXT NOT NULL,
  group_key     TEXT NOT NULL,
  last_started  INTEGER NOT NULL,
  PRIMARY KEY (function_name, group_key)
) WITHOUT ROWID;
