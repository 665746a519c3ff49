-- Inserts a batch of new invocations in one statement; invocation_id repeats are skipped
-- (resolved as duplicate or conflict by find-idempotent.sql). Notifies each function once.
-- $1 jsonb: [{ request_id, function_name, payload_box: { v: payload }, created_at, scheduled_at, invocation_id?,
--             payload_key?, hops, detail?, rerun_of?, trace_context?, group_key?, ord }]
-- $2 text: notification channel; $3 text: the sending store instance.
-- Returns the request_id of each inserted row.
with input as (
  select * from jsonb_to_recordset($1::jsonb) as x(
    request_id text, function_name text, payload_box jsonb, created_at bigint, scheduled_at bigint,
    invocation_id text, payload_key text, hops integer, detail text, rerun_of text, trace_context text,
    group_key text, ord integer)
),
inserted as (
  insert into {{schema}}.invocations as i (request_id, function_name, status, payload, attempts,
    created_at, scheduled_at, invocation_id, payload_key, events, due_at, throttles, hops, rerun_of, trace_context, group_key)
  select request_id, function_name, 'Enqueued', payload_box->'v', 0, created_at, scheduled_at, invocation_id,
    payload_key,
    jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
      'at', created_at, 'status', 'Enqueued', 'attempt', 0, 'detail', detail))),
    scheduled_at, 0, hops, rerun_of, trace_context, group_key
  from input
  order by ord
  on conflict do nothing
  returning i.request_id, i.function_name, i.due_at
),
notified as (
  select pg_notify($2::text, json_build_object('s', $3::text, 't', 'due', 'f', function_name, 'at', min(due_at))::text)
  from inserted group by function_name
)
select request_id from inserted where (select count(*) from notified) >= 0
