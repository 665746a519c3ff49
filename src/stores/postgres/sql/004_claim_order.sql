-- Claims take a function's expired leases (their workers are gone) before its free work, each
-- oldest first, as the memory and SQLite stores do. Free work is read from invocations_due in
-- due order; the leased rows from this index, so that reading them never walks past free work
-- (a backlog). It holds only leased rows: about as many as attempts are running.
create index invocations_due_leased on {{schema}}.invocations (function_name, due_at)
  where due_at is not null and lease_token is not null;
