-- One record by request id. $1 text.
select {{record_columns}} from {{schema}}.invocations i where i.request_id = $1::text
