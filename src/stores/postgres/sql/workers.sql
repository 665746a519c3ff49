-- The presences live at $1, in one statement that also drops the lapsed ones (so the table
-- holds only live workers and those lapsed since the last read). The select reads the snapshot
-- from before the delete, hence its own filter.
-- $1 bigint: now (epoch ms). Returns per live worker: worker_id, expires_at, presence (jsonb).
with lapsed as (
  delete from {{schema}}.workers where expires_at <= $1::bigint
)
select w.worker_id, w.expires_at, w.presence
from {{schema}}.workers w
where w.expires_at > $1::bigint
order by w.worker_id
