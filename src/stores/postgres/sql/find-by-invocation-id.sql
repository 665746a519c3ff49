-- The record holding a function's invocation id, from the idempotency index.
-- $1 text: function name; $2 text: invocation id.
-- Returns the record's columns (record-columns.sql), or no row.
select {{record_columns}}
from {{schema}}.invocations i
where i.function_name = $1::text and i.invocation_id = $2::text
