-- 003: execution logs, and listing by invocation-id prefix.
-- One row per log line; seq counts from 1 per invocation (log_seq holds the last one given), and
-- log_dropped how many of the oldest lines were dropped to stay within the function's bounds.
CREATE TABLE logs (
  request_id TEXT NOT NULL,
  seq        INTEGER NOT NULL,
  at         INTEGER NOT NULL,
  attempt    INTEGER NOT NULL,
  level      TEXT NOT NULL,
  message    TEXT NOT NULL,
  -- JSON, or NULL when the line has no data
  data       TEXT,
  -- logLineBytes of the line, for the byte bound
  bytes      INTEGER NOT NULL,
  PRIMARY KEY (request_id, seq)
) WITHOUT ROWID;

ALTER TABLE invocations ADD COLUMN log_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invocations ADD COLUMN log_dropped INTEGER NOT NULL DEFAULT 0;

-- Logs go with their invocation (retention deletes invocations only).
CREATE TRIGGER invocations_logs_gone AFTER DELETE ON invocations
BEGIN
  DELETE FROM logs WHERE request_id = old.request_id;
END;

-- Listing by invocationId prefix: a range over this index.
CREATE INDEX invocations_invocation_id ON invocations (invocation_id) WHERE invocation_id IS NOT NULL;
