-- Inserts a batch of new invocations in one statement and tells which items were not inserted
-- and who holds their invocation id. Notifies each function once.
-- The batch comes as one array per column (zipped by ROWS FROM, in input order): no JSON record
-- per item to parse, and the payloads as one JSON array.
-- $1 text[] request ids; $2 text[] function names; $3 jsonb: the payloads, an array;
-- $4 bigint[] created_at; $5 bigint[] scheduled_at; $6 text[] invocation ids; $7 text[] payload
-- keys; $8 integer[] hops; $9 text[] details (of the Enqueued event); $10 text[] rerun_of;
-- $11 text[] trace contexts; $12 text[] group keys (null = none in each);
-- $13 text: notification channel; $14 text: the sending store instance.
-- Items are inserted in input order (seq numbers them so), so of two items of the batch with one
-- (function_name, invocation_id) the first is inserted and the second skipped.
-- Returns one row per item NOT inserted (none when all were): its ord (1-based place in the
-- batch) and the request_id and payload_key of the record holding its invocation id, from this
-- statement's own inserts (an earlier item of the batch) or from the statement's snapshot. Both
-- null: its request id is taken (no invocation id), or the holder committed after the snapshot
-- (the caller looks it up again).
-- enqueue-unkeyed (statements.ts) is this statement without `on conflict do nothing` and with
-- another answer: for a batch where no item has an invocation id, so none can repeat another.
with input as (
  select * from rows from (
    unnest($1::text[]), unnest($2::text[]), jsonb_array_elements($3::jsonb), unnest($4::bigint[]),
    unnest($5::bigint[]), unnest($6::text[]), unnest($7::text[]), unnest($8::integer[]), unnest($9::text[]),
    unnest($10::text[]), unnest($11::text[]), unnest($12::text[])
  ) with ordinality as x(request_id, function_name, payload, created_at, scheduled_at, invocation_id, payload_key,
    hops, detail, rerun_of, trace_context, group_key, ord)
),
inserted as (
  insert into {{schema}}.invocations as i (request_id, function_name, status, payload, attempts,
    created_at, scheduled_at, invocation_id, payload_key, events, due_at, throttles, hops, rerun_of, trace_context, group_key)
  select request_id, function_name, 'Enqueued', payload, 0, created_at, scheduled_at, invocation_id, payload_key,
    -- The usual batch shares one creation time and has no details: its event is built once (a
    -- subquery of parameters only, run once per statement), not once per row.
    case when detail is null and created_at = ($4::bigint[])[1]
      then (select jsonb_build_array(jsonb_build_object('at', ($4::bigint[])[1], 'status', 'Enqueued', 'attempt', 0)))
      else jsonb_build_array(case when detail is null
        then jsonb_build_object('at', created_at, 'status', 'Enqueued', 'attempt', 0)
        else jsonb_build_object('at', created_at, 'status', 'Enqueued', 'attempt', 0, 'detail', detail) end) end,
    scheduled_at, 0, hops, rerun_of, trace_context, group_key
  from input
  order by ord
  on conflict do nothing
  returning i.request_id, i.function_name, i.invocation_id, i.payload_key, i.due_at
),
notified as (
  select pg_notify($13::text, json_build_object('s', $14::text, 't', 'due', 'f', function_name, 'at', min(due_at))::text)
  from inserted group by function_name
)
-- answer
select s.ord::integer as ord, h.request_id, h.payload_key
from (
  select x.ord, x.function_name, x.invocation_id from input x
  where not exists (select 1 from inserted n where n.request_id = x.request_id)
) s
left join lateral (
  select n.request_id, n.payload_key from inserted n
  where n.function_name = s.function_name and n.invocation_id = s.invocation_id
  union all
  select i.request_id, i.payload_key from {{schema}}.invocations i
  where i.function_name = s.function_name and i.invocation_id = s.invocation_id and i.invocation_id is not null
  limit 1
) h on true
where (select count(*) from notified) >= 0
