-- The activity counters of the minutes in [$1, $2), of one function ($3) or all (null): one row
-- per counter (activityFromCells in activity.ts puts them together). A range of the primary key.
-- $1 bigint: since; $2 bigint: until; $3 text: function name or null.
-- Returns function_name, minute, kind, bucket, count (bigints as strings).
select a.function_name, a.minute, a.kind, a.bucket, a.count
from {{schema}}.activity a
where a.minute >= $1::bigint and a.minute < $2::bigint
  and ($3::text is null or a.function_name = $3::text)
