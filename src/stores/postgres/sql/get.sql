-- One record by request id. $1 text: request id.
-- Returns the record's columns (record-columns.sql), or no row.
select {{record_columns}} from {{schema}}.invocations i where i.request_id = $1::text
