-- A page of an invocation's log: lines after a seq, oldest first, with the dropped count, in
-- one snapshot. data is boxed in an array so that a JSON null can be told apart from no data.
-- $1 text: request id; $2 bigint: after (seq); $3 integer: limit.
-- Returns no row when there is no such invocation; else one row per line (seq, at, attempt,
-- level, message, data_box) each with dropped, or one row of nulls but dropped when no line
-- is after the cursor.
select coalesce(c.dropped, 0) as dropped, l.seq, l.at, l.attempt, l.level, l.message,
  case when l.data is null then null else jsonb_build_array(l.data) end as data_box
from {{schema}}.invocations i
left join {{schema}}.log_counters c on c.request_id = i.request_id
left join lateral (
  select l.seq, l.at, l.attempt, l.level, l.message, l.data
  from {{schema}}.logs l
  where l.request_id = i.request_id and l.seq > $2::bigint
  order by l.seq
  limit $3::integer
) l on true
where i.request_id = $1::text
order by l.seq
