-- Adds activity counters (activityCells of each entry) to the per-function, per-minute rows.
-- Cells repeated in the batch are summed first: an upsert may change a row once per statement.
-- Rows are written in key order, so two processes adding to the same rows never deadlock.
-- $1 jsonb: [{ f: function name, m: minute (epoch ms), k: kind, b: bucket, n: count }].
-- Returns nothing.
insert into {{schema}}.activity as a (function_name, minute, kind, bucket, count)
select c.f, c.m, c.k, c.b, sum(c.n)
from jsonb_to_recordset($1::jsonb) as c(f text, m bigint, k text, b integer, n bigint)
group by c.m, c.f, c.k, c.b
order by c.m, c.f, c.k, c.b
on conflict (minute, function_name, kind, bucket) do update set count = a.count + excluded.count
