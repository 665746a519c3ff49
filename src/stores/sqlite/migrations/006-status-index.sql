-- 006: the status index leaves out Succeeded rows, the bulk of a table and of its churn. Each
-- invocation moved its entry twice (Enqueued -> Running -> Succeeded), each move a page of the
-- WAL at every commit: 2.9 of the 7.0-7.4 pages a claim-and-settle commit wrote at concurrency 1,
-- 1.7 without the Succeeded entries. Listing Succeeded walks invocations_created instead, where
-- they are the common case. A query can use this index only if it says `status <> 'Succeeded'`
-- itself (SQLite does not derive it from `status IN (...)`): the store's queries do.
DROP INDEX invocations_status_created;
CREATE INDEX invocations_status_created ON invocations (status, created_at, request_id)
  WHERE status <> 'Succeeded';
