-- Renews the leases still held (token matches) to $2 and reports each lease's status.
-- $1 jsonb: [{ request_id, lease_token }]; $2 bigint: new lease expiry.
-- Returns per lease: request_id, status (null = lost).
with l as (
  select * from jsonb_to_recordset($1::jsonb) as x(request_id text, lease_token text)
),
renewed as (
  update {{schema}}.invocations i set due_at = $2::bigint
  from l
  where i.request_id = l.request_id and i.lease_token = l.lease_token
    -- Through the primary key whatever the statistics say (see settle.sql).
    and i.request_id = any(array(select l.request_id from l))
  returning i.request_id, i.status
)
select l.request_id, r.status from l left join renewed r on r.request_id = l.request_id
