/**
 * Opening the pool (pg is an optional peer dependency, imported only when the store opens its
 * own pool) and migrating the schema on first use.
 */
import type { Pool, PoolClient } from 'pg';
import { StoreError } from '../../errors.js';
import { quoteIdent, type Migration } from './statements.js';

export async function openPool(connectionString: string | undefined, max: number): Promise<Pool> {
  let Pool: typeof import('pg').Pool;
  try {
    ({ Pool } = (await import('pg')).default);
  } catch (cause) {
    throw new StoreError('postgresStore needs the "pg" package: npm install pg', { cause });
  }
  const pool = new Pool({ ...(connectionString === undefined ? {} : { connectionString }), max });
  // An idle client that loses its connection emits on the pool; without a listener that would
  // crash the process. The next query gets a fresh client.
  pool.on('error', () => {});
  return pool;
}

/**
 * Creates the schema and applies the migrations not yet applied, in one transaction under an
 * advisory lock keyed by the schema, so processes starting together migrate once.
 */
export async function migrate(pool: Pool, schema: string, migrations: readonly Migration[]): Promise<void> {
  const client: PoolClient = await pool.connect();
  const q = quoteIdent(schema);
  try {
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock(hashtext($1))', [`async-invoker:${schema}`]);
    await client.query(`create schema if not exists ${q}`);
    await client.query(
      `create table if not exists ${q}.migrations (id integer primary key, name text not null, applied_at timestamptz not null default now())`,
    );
    const { rows } = await client.query<{ id: number }>(`select id from ${q}.migrations`);
    const applied = new Set(rows.map((r) => r.id));
    for (const m of migrations) {
      if (applied.has(m.id)) continue;
      await client.query(m.sql);
      await client.query(`insert into ${q}.migrations (id, name) values ($1, $2)`, [m.id, m.name]);
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
