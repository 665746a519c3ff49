-- Activity counters (the dashboard's charts): per function and minute, one row per counter, as
-- the SQLite store keeps them. kind: 'finished' (bucket 0..4 = Succeeded, Failed, Expired,
-- Stopped, Invalid, FINISHED_STATUSES in activity.ts), 'wait' or 'run' (bucket = index into
-- DURATION_BUCKETS_MS, the last one open). Processes add to the same rows (an upsert), so the
-- counts add up. minute leads the key: reading a range of minutes, and retention dropping the
-- oldest, are ranges of the primary key.
create table if not exists {{schema}}.activity (
  function_name text not null,
  minute        bigint not null,
  kind          text not null,
  bucket        integer not null,
  count         bigint not null,
  primary key (minute, function_name, kind, bucket)
);
