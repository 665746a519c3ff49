-- Removes a worker's presence (its invoker closed); a worker never announced is no error.
-- $1 text: worker id. Returns nothing.
delete from {{schema}}.workers where worker_id = $1::text
