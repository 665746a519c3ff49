-- Work of a grouped function enqueued without a group (by a process without its groupBy) joins
-- group '' and is served as one group of its own. A scan of the function's work: claims space
-- these out (ADOPTION_INTERVAL_MS).
-- $1 text: function. Returns nothing.
update {{schema}}.invocations i set group_key = ''
where i.function_name = $1::text and i.group_key is null and i.due_at is not null
