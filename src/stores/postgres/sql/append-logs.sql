-- Appends log lines for a batch of invocations (at most one item per request_id) in one
-- statement: numbers them after the invocation's last seq (the writer's dropped lines take their
-- numbers first), then drops the oldest lines past the item's bounds and counts them. The rule is
-- linesToDrop's (logs.ts), the longest run of newest lines within max_lines lines and max_bytes
-- bytes, kept as positions: a line stays while nth > logged - max_lines and bytes_before >=
-- logged_bytes - max_bytes (see 003_logs_and_lineage.sql), so no size is summed over stored lines
-- and the lines that go are a range of the primary key. New lines past the bounds are never
-- written. Lines of an invocation that does not exist, or that a retention pass is deleting right
-- now, are ignored.
--
-- Locks, in this order, each set in request_id order: the invocations (key share: a retention
-- pass deleting one waits for this to commit, then its cascade takes the new lines along; claims,
-- settlements and heartbeats take no lock that conflicts), then their log_counters rows (so the
-- appends and trims of one log take turns). Locking reads the latest version of a log_counters
-- row: numbers, positions and counts are exact even when another process appends to the same log
-- at once.
--
-- Which stored lines go is decided on the latest counters, but the delete only sees the lines of
-- this statement's snapshot: lines of another append that committed while this one waited for the
-- lock may be left past the bounds. Such items are returned; the caller runs trim-logs.sql, whose
-- snapshot is newer.
--
-- $1 jsonb: [{ request_id, dropped, max_lines, max_bytes,
--             lines: [{ at, attempt, level, message, data_box?: { v: data }, bytes }] }]
-- Returns the request_id of each item whose log another append changed meanwhile (see above).
with input as (
  select * from jsonb_to_recordset($1::jsonb) as x(
    request_id text, dropped bigint, max_lines bigint, max_bytes bigint, lines jsonb)
  -- The batch's length: it gives the planner the row count, where it would assume 100 items
  -- and could prefer reading whole tables to probing their primary keys per item.
  limit jsonb_array_length($1::jsonb)
),
live as (
  select i.request_id from {{schema}}.invocations i
  where i.request_id in (select x.request_id from input x)
  order by i.request_id
  for key share skip locked
),
held as (
  select c.request_id, c.logged, c.logged_bytes from {{schema}}.log_counters c
  where c.request_id in (select v.request_id from live v)
  order by c.request_id
  for no key update
),
-- The new lines, numbered from 1 per item, with the bytes of the item's new lines before each.
fresh as (
  select x.request_id, l.j, l.line, (l.line->>'bytes')::bigint as bytes,
    coalesce(sum((l.line->>'bytes')::bigint) over (partition by x.request_id order by l.j
      rows between unbounded preceding and 1 preceding), 0)::bigint as before
  from input x
  cross join lateral jsonb_array_elements(x.lines) with ordinality as l(line, j)
),
added as (
  select f.request_id, count(*) as n, sum(f.bytes)::bigint as bytes from fresh f group by f.request_id
),
-- Per live item: its new lines, the log's seq in this statement's snapshot, and the positions
-- below which lines go (from the latest counters).
plan as (
  select x.request_id, x.dropped, x.max_lines, x.max_bytes,
    coalesce(a.n, 0) as n, coalesce(a.bytes, 0) as new_bytes,
    coalesce(s.seq, 0) as seen_seq,
    h.request_id is not null as stored,
    coalesce(h.logged, 0) + coalesce(a.n, 0) - x.max_lines as cut_nth,
    coalesce(h.logged_bytes, 0) + coalesce(a.bytes, 0) - x.max_bytes as cut_bytes
  from input x
  join live v on v.request_id = x.request_id
  left join held h on h.request_id = x.request_id
  left join {{schema}}.log_counters s on s.request_id = x.request_id
  left join added a on a.request_id = x.request_id
),
-- Per item with stored lines: the oldest line that stays (none: past every seq), by one walk of
-- the primary key from the oldest line (materialized: walked once, not once per line deleted).
-- The lines before it go: read per item from the primary key by a subquery (which the planner
-- cannot turn into a join that reads all of logs), then deleted by their row addresses (stable:
-- lines are never updated, and only the holder of a log's counters row deletes its lines).
keep_from as materialized (
  select p.request_id, coalesce((
    select l.seq from {{schema}}.logs l
    where l.request_id = p.request_id and l.nth > p.cut_nth and l.bytes_before >= p.cut_bytes
    order by l.seq
    limit 1
  ), 9223372036854775807) as seq
  from plan p
  where p.stored
),
deleted as (
  delete from {{schema}}.logs l
  where l.ctid = any(array(
    select unnest(array(
      select g.ctid from {{schema}}.logs g where g.request_id = k.request_id and g.seq < k.seq
    ))
    from keep_from k))
  returning l.request_id
),
gone as (
  select d.request_id, count(*) as n from deleted d group by d.request_id
),
-- New lines past the bounds on their own (the oldest of the item's): never written.
skipped as (
  select f.request_id, count(*) as n
  from fresh f
  join plan p on p.request_id = f.request_id
  where f.j <= p.n - p.max_lines or f.before < p.new_bytes - p.max_bytes
  group by f.request_id
),
-- What changed, added to the latest version of the row (a first append inserts it).
counted as (
  insert into {{schema}}.log_counters as c (request_id, seq, dropped, logged, logged_bytes)
  select p.request_id, p.dropped + p.n, p.dropped + coalesce(s.n, 0) + coalesce(g.n, 0), p.n, p.new_bytes
  from plan p
  left join skipped s on s.request_id = p.request_id
  left join gone g on g.request_id = p.request_id
  order by p.request_id collate "C"
  on conflict (request_id) do update set
    seq = c.seq + excluded.seq,
    dropped = c.dropped + excluded.dropped,
    logged = c.logged + excluded.logged,
    logged_bytes = c.logged_bytes + excluded.logged_bytes
  returning c.request_id, c.seq, c.logged, c.logged_bytes
),
-- New line j: number (seq - n + j), after the writer's dropped lines; positions likewise.
inserted as (
  insert into {{schema}}.logs (request_id, seq, nth, bytes_before, at, attempt, level, message, data, bytes)
  select f.request_id, c.seq - p.n + f.j, c.logged - p.n + f.j, c.logged_bytes - p.new_bytes + f.before,
    (f.line->>'at')::bigint, (f.line->>'attempt')::integer, f.line->>'level', f.line->>'message',
    f.line->'data_box'->'v', f.bytes
  from counted c
  join plan p on p.request_id = c.request_id
  join fresh f on f.request_id = c.request_id
  left join skipped s on s.request_id = c.request_id
  where f.j > coalesce(s.n, 0)
)
select c.request_id
from counted c
join plan p on p.request_id = c.request_id
where c.seq - p.dropped - p.n <> p.seen_seq
