-- 001: the invocations table. `record` holds the whole StoredInvocation as JSON (events
-- appended); the other columns copy the fields that indexes and SQL predicates need.
CREATE TABLE invocations (
  request_id    TEXT PRIMARY KEY,
  function_name TEXT NOT NULL,
  status        TEXT NOT NULL,
  invocation_id TEXT,
  -- canonical payload JSON, compared on a repeated invocation_id (duplicate vs conflict)
  payload_key   TEXT,
  created_at    INTEGER NOT NULL,
  ended_at      INTEGER,
  -- next time a worker should take it (run, lease expiry, delivery); NULL = nothing to do
  due_at        INTEGER,
  lease_token   TEXT,
  -- 1 while leased: claims look up expired leases and free work separately
  leased        INTEGER NOT NULL DEFAULT 0,
  -- 1 when retention may delete it (final, nothing owed, not leased)
  prunable      INTEGER NOT NULL DEFAULT 0,
  record        TEXT NOT NULL
);

-- Idempotency: one invocation per (function, invocationId).
CREATE UNIQUE INDEX invocations_idempotency ON invocations (function_name, invocation_id)
  WHERE invocation_id IS NOT NULL;

-- The work index: claim takes the lowest due_at per function, leased and free separately.
CREATE INDEX invocations_due ON invocations (function_name, leased, due_at)
  WHERE due_at IS NOT NULL;

-- Listing, newest first, overall / by function / by status.
CREATE INDEX invocations_created ON invocations (created_at, request_id);
CREATE INDEX invocations_function_created ON invocations (function_name, created_at, request_id);
CREATE INDEX invocations_status_created ON invocations (status, created_at, request_id);

-- Retention.
CREATE INDEX invocations_prunable ON invocations (ended_at, request_id) WHERE prunable = 1;
