/**
 * `async-invoker/postgres`: invocations in PostgreSQL, shared by every process pointed at the
 * same schema. Needs the `pg` package (an optional peer dependency) unless given a Pool.
 *
 * ```ts
 * import { postgresStore } from 'async-invoker/postgres';
 * const store = postgresStore({ connectionString: process.env.DATABASE_URL, schema: 'jobs' });
 * ```
 *
 * @module async-invoker/postgres
 */
import { parseOptions } from '../../config.js';
import type { Store } from '../contract.js';
import { postgresStoreOptionsSchema, type PostgresStoreOptions } from './options.js';
import { PostgresStore } from './store.js';

export type { PgPool, PostgresStoreOptions } from './options.js';

/** A store on PostgreSQL. Connects, creates and migrates the schema on first use. */
export function postgresStore(options: PostgresStoreOptions = {}): Store {
  return new PostgresStore(parseOptions(postgresStoreOptionsSchema, options, 'options'));
}
