-- Pending and running counts per function, with the oldest pending created_at.
-- $1 text[]: function names, or null for all.
-- Returns per function with pending or running work: function_name, pending, running (bigint
-- counts), oldest_pending_at (null without pending work).
select i.function_name,
  count(*) filter (where i.status in ('Enqueued', 'Retrying')) as pending,
  count(*) filter (where i.status in ('Running', 'Stopping')) as running,
  min(i.created_at) filter (where i.status in ('Enqueued', 'Retrying')) as oldest_pending_at
from {{schema}}.invocations i
where i.status in ('Enqueued', 'Retrying', 'Running', 'Stopping')
  and ($1::text[] is null or i.function_name = any($1::text[]))
group by i.function_name
