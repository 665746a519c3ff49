-- The columns of a record, as rows.ts reads them (alias i). result is boxed in an array so a
-- JSON null result can be told apart from no result. group_key '' (adopted groupless work) reads
-- as no group.
i.request_id, i.function_name, i.status, i.payload, i.attempts, i.created_at, i.scheduled_at,
i.started_at, i.ended_at, case when i.result is null then null else jsonb_build_array(i.result) end as result_box,
i.error, i.condition, i.invocation_id, i.events, i.due_at, i.lease_token, i.throttles, i.lost_attempts, i.interrupted_attempts, i.hops, i.delivery,
i.rerun_of, i.trace_context, nullif(i.group_key, '') as group_key
