/**
 * Opening the pool (pg is an optional peer dependency, imported only when the store opens its
 * own pool) and migrating the schema on first use.
 */
import type { Pool, PoolClient, QueryConfig } from 'pg';
import { StoreError } from '../../errors.js';
import { quoteIdent, type Migration } from './statements.js';

/**
 * A migration may rebuild an index of a large table, and may wait for another process that
 * does: far longer than one operation is allowed. Still bounded, so a dead server cannot hold
 * the first call forever.
 */
const MIGRATION_TIMEOUT_MS = 600_000;

const ignore = (): void => {};

/** A statement with its own answer timeout: pg reads `query_timeout` from the query config too. */
export interface TimedQuery extends QueryConfig {
  readonly query_timeout: number;
}

export async function openPool(connectionString: string | undefined, max: number, timeoutMs: number): Promise<Pool> {
  let Pool: typeof import('pg').Pool;
  try {
    ({ Pool } = (await import('pg')).default);
  } catch (cause) {
    throw new StoreError('postgres store: the "pg" package is missing: npm install pg', { cause });
  }
  const pool = new Pool({
    ...(connectionString === undefined ? {} : { connectionString }),
    max,
    // While the server is down or unreachable, no call waits longer than this for a connection
    // (a new one, or a turn at a busy pool) or for an answer. statement_timeout makes the server
    // give up on a statement the client stopped waiting for, instead of running on holding locks.
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    statement_timeout: timeoutMs,
    // A peer that vanished without closing the socket (a cut network) is noticed by the kernel.
    keepAlive: true,
    // Statements sent before the answers to those before them go out at once: a claim with
    // limits sends its lock and first reads together (transaction.ts). One statement at a time
    // (every other operation) works as without it.
    pipeline: true,
  });
  // An idle client that loses its connection emits on the pool; without a listener that would
  // crash the process. Nothing to report: the next statement gets a fresh client, and reports.
  pool.on('error', ignore);
  return pool;
}

/**
 * Creates the schema and applies the migrations not yet applied, in one transaction under an
 * advisory lock keyed by the schema, so processes starting together migrate once.
 */
export async function migrate(pool: Pool, schema: string, migrations: readonly Migration[], create = true): Promise<void> {
  const client: PoolClient = await pool.connect();
  // A checked-out client has no listener of the pool's: a connection lost between two of these
  // statements would otherwise be an unhandled 'error' event. The failing statement rejects.
  client.on('error', ignore);
  const run = (text: string, values?: unknown[]) => {
    const query: TimedQuery = { text, values, query_timeout: MIGRATION_TIMEOUT_MS };
    return client.query(query);
  };
  const q = quoteIdent(schema);
  let failed: unknown;
  try {
    await run('begin');
    await run(`set local statement_timeout = ${MIGRATION_TIMEOUT_MS}`);
    await run('select pg_advisory_xact_lock(hashtext($1))', [`async-invoker:${schema}`]);
    if (!create) {
      const found = await client.query<{ found: boolean }>('select to_regclass($1) is not null as found', [`${q}.migrations`]);
      if (!found.rows[0]?.found) {
        throw new StoreError(
          `postgres store: schema "${schema}" has no async-invoker tables and createSchema is false: check the schema name; a store opened with createSchema (the default) makes them on first use`,
        );
      }
    }
    await run(`create schema if not exists ${q}`);
    await run(`create table if not exists ${q}.migrations (id integer primary key, name text not null, applied_at timestamptz not null default now())`);
    const { rows } = await client.query<{ id: number }>(`select id from ${q}.migrations`);
    const applied = new Set(rows.map((r) => r.id));
    for (const m of migrations) {
      if (applied.has(m.id)) continue;
      await run(m.sql);
      await run(`insert into ${q}.migrations (id, name) values ($1, $2)`, [m.id, m.name]);
    }
    await run('commit');
  } catch (error) {
    failed = error;
    await client.query('rollback').catch(ignore);
    throw error;
  } finally {
    client.off('error', ignore);
    // A client whose statement failed may be broken: drop it rather than hand it out again.
    client.release(failed === undefined ? undefined : failed instanceof Error ? failed : true);
  }
}
