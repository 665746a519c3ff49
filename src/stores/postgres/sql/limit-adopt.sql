-- Work of a grouped function enqueued without a group (by a process without its groupBy) joins
-- group '' and is served as one group of its own. A scan of the function's work: claims space
-- these out (ADOPTION_INTERVAL_MS). Rows another transaction holds are left for the next time:
-- waiting for them while holding the function's lock could close a circle of waits.
-- $1 text: function. Returns nothing.
update {{schema}}.invocations i set group_key = ''
where i.request_id in (
  select a.request_id from {{schema}}.invocations a
  where a.function_name = $1::text and a.group_key is null and a.due_at is not null
  for no key update skip locked
)
