-- Records or renews a worker's presence (the same worker announcing again replaces it).
-- $1 text: worker id; $2 bigint: expires at (epoch ms); $3 jsonb: the presence as announced.
-- Returns nothing.
insert into {{schema}}.workers (worker_id, expires_at, presence)
values ($1::text, $2::bigint, $3::jsonb)
on conflict (worker_id) do update set expires_at = excluded.expires_at, presence = excluded.presence
