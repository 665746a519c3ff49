-- The records holding the given (function_name, invocation_id) pairs, for enqueue items that
-- were not inserted: equal payload_key = duplicate, other = conflict.
-- $1 text[]: function names; $2 text[]: invocation ids (pairwise).
-- Returns per pair found: function_name, invocation_id, request_id, payload_key.
select i.function_name, i.invocation_id, i.request_id, i.payload_key
from {{schema}}.invocations i
join unnest($1::text[], $2::text[]) as k(function_name, invocation_id)
  on i.function_name = k.function_name and i.invocation_id = k.invocation_id
