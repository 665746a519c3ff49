-- 004: activity counters (dashboard charts): per function and minute, one row per counter.
-- kind: 'finished' (bucket 0..4 = Succeeded, Failed, Expired, Stopped, Invalid), 'wait' or
-- 'run' (bucket = index into DURATION_BUCKETS_MS, the last one open). Rows add up across processes.
CREATE TABLE activity (
  function_name TEXT NOT NULL,
  minute        INTEGER NOT NULL,
  kind          TEXT NOT NULL,
  bucket        INTEGER NOT NULL,
  count         INTEGER NOT NULL,
  PRIMARY KEY (minute, function_name, kind, bucket)
) WITHOUT ROWID;
