-- 002: worker presence. One row per live worker invoker; `info` is the WorkerPresence as JSON.
-- Rows past expires_at are ignored by readers and deleted as presences are read.
CREATE TABLE workers (
  worker_id  TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL,
  info       TEXT NOT NULL
);
