// The servers the durable stores and peers use, probed before anything runs (an unreachable one
// is skipped with its reason, not a stack trace), and the sweep that removes whatever a run left
// on them. Everything a run creates is named after its run id, so the sweep can find it even if
// a case was killed half-way.
import pg from 'pg';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The bench's own Redis with appendfsync always (set by run.js once it has started it). */
export const redisAofUrl = () => process.env.BENCH_REDIS_AOF_URL ?? 'redis://127.0.0.1:6391';
export const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://root@127.0.0.1:5432/test';

const PROBE_MS = 2000;

/** Resolves to undefined when the server answers, or to a one-line reason when it does not. */
export async function probeRedis(url = REDIS_URL) {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: PROBE_MS, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // The socket's own error (ECONNREFUSED ...) says more than the "Connection is closed" that follows.
  let cause;
  client.on('error', (error) => (cause ??= error));
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return `Redis at ${url} not reachable: ${(cause ?? error).message}`;
  } finally {
    client.disconnect();
  }
}

export async function probePostgres(url = PG_URL) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PROBE_MS });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return `PostgreSQL at ${url} not reachable: ${error.message}`;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Drops every PostgreSQL schema whose name contains `tag`. */
export async function dropSchemas(tag, url = PG_URL) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PROBE_MS });
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query(`select nspname from pg_namespace where strpos(nspname, $1) > 0`, [tag]);
    for (const { nspname } of rows) await client.query(`drop schema if exists "${nspname}" cascade`);
    return rows.length;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Deletes every Redis key whose name contains `tag` (SCAN, so the server is never blocked). */
export async function deleteKeys(tag, url = REDIS_URL) {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `*${tag}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await client.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    client.disconnect();
  }
}
