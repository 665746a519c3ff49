-- Stops a waiting invocation (Enqueued/Retrying -> Stopped, an onFailure delivery owed when
-- $3) or asks a running one to stop (Running -> Stopping), as applyStop in record-rules.ts.
-- Other statuses are left alone (no row returned). Notifies the stop or the owed delivery.
-- $1 text: request id; $2 bigint: now; $3 boolean: deliver on failure; $4 channel; $5 instance.
-- Returns the changed record's columns (record-columns.sql), or no row.
with stopped as (
  update {{schema}}.invocations i set
    status = case when i.status = 'Running' then 'Stopping' else 'Stopped' end,
    ended_at = case when i.status = 'Running' then i.ended_at else $2::bigint end,
    error = case when i.status = 'Running' then i.error
      else '{"errorType":"Stopped","errorMessage":"stopped by stopInvocation before it ran"}'::jsonb end,
    condition = case when i.status = 'Running' then i.condition else 'Stopped' end,
    events = i.events || jsonb_build_array(jsonb_build_object('at', $2::bigint,
      'status', case when i.status = 'Running' then 'Stopping' else 'Stopped' end,
      'attempt', i.attempts, 'detail', 'stopInvocation')),
    lease_token = case when i.status = 'Running' then i.lease_token else null end,
    due_at = case when i.status = 'Running' then i.due_at when $3::boolean then $2::bigint else null end,
    delivery = case when i.status <> 'Running' and $3::boolean
      then jsonb_build_object('target', 'onFailure', 'status', 'Pending', 'attempts', 0, 'since', $2::bigint)
      else i.delivery end
  where i.request_id = $1::text and i.status in ('Enqueued', 'Retrying', 'Running')
  returning {{record_columns}}
),
notified as (
  select pg_notify($4::text, case when status = 'Stopping'
      then json_build_object('s', $5::text, 't', 'stop', 'r', request_id)::text
      else json_build_object('s', $5::text, 't', 'due', 'f', function_name, 'at', due_at)::text end)
  from stopped where status = 'Stopping' or due_at is not null
)
select * from stopped where (select count(*) from notified) >= 0
