-- A page of records newest first (created_at desc, request_id desc), each filter optional.
-- $1 function name; $2 text[] statuses; $3 since (>=); $4 until (<);
-- $5, $6 cursor position (created_at, request_id): rows strictly after it; $7 limit;
-- $8 invocation-id prefix, taken literally: a range over invocation_id (collation "C"; ids are
-- ASCII, so every id with the prefix sorts below prefix || chr(127)), never LIKE ('_' and '%'
-- are wildcards there).
-- Returns up to $7 records' columns (record-columns.sql), in that order.
select {{record_columns}}
from {{schema}}.invocations i
where ($1::text is null or i.function_name = $1::text)
  and ($2::text[] is null or i.status = any($2::text[]))
  and ($3::bigint is null or i.created_at >= $3::bigint)
  and ($4::bigint is null or i.created_at < $4::bigint)
  and ($8::text is null or (i.invocation_id >= $8::text and i.invocation_id < ($8::text || chr(127))))
  and ($5::bigint is null or (i.created_at, i.request_id) < ($5::bigint, $6::text collate "C"))
order by i.created_at desc, i.request_id desc
limit $7::integer
