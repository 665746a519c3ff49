/** postgresStore options: types, defaults and their zod schema (checked once, at the factory). */
import { z } from 'zod';
import { intIn, retentionSchema } from '../../config.js';
import type { RetentionOptions } from '../contract.js';

/**
 * The parts of a pg `Pool` the store uses: pass `new pg.Pool(...)`. Typed structurally so that
 * using this store's types needs no `@types/pg`.
 */
export interface PgPool {
  query(text: string): unknown;
  connect(): unknown;
}

export interface PostgresStoreOptions {
  /**
   * Where to connect, e.g. `postgres://user@host:5432/db`. When neither this nor `pool` is
   * given, `pg` reads the usual `PG*` environment variables.
   */
  readonly connectionString?: string;
  /**
   * The schema holding the store's tables, created and migrated on first use. Stores that share
   * a schema share their invocations.
   * @default 'async_invoker'
   */
  readonly schema?: string;
  /**
   * A `pg` Pool to use instead of opening one. `close()` leaves it open. The store holds one of
   * its clients for LISTEN while anything is subscribed, so give it at least 2 connections.
   * `operationTimeoutMs` still bounds each statement's wait for its answer; the wait for a
   * connection is the pool's own `connectionTimeoutMillis` (pg's default is no limit: set it).
   */
  readonly pool?: PgPool;
  /** How long and how many finished invocations are kept. */
  readonly retention?: RetentionOptions;
  /**
   * Create the schema and its tables on first use when they are missing (an existing schema is
   * always migrated). `false`: a schema without the store's tables fails every call with a
   * StoreError instead, so a mistyped name creates nothing (the command line opens stores so).
   * @default true
   */
  readonly createSchema?: boolean;
  /**
   * Connections in the pool the store opens (ignored with `pool`).
   * @default 10
   */
  readonly max?: number;
  /**
   * How long one statement may take while the server is down, unreachable or stuck, in ms: the
   * wait for a connection (`connectionTimeoutMillis`), for the answer (`query_timeout`), and the
   * server's own limit on running it (`statement_timeout`). Past it the call rejects with a
   * `StoreError`. An operation is one statement, two for a claim that finds less than it asked
   * for. With `pool`, only the wait for the answer is bounded by this.
   * @default 10000
   */
  readonly operationTimeoutMs?: number;
  /**
   * Send the statements of the hot path (enqueue, claim, settle, heartbeat) as named prepared
   * statements, parsed and planned once per connection. Set `false` behind a pooler that does
   * not keep them across transactions (PgBouncer in transaction mode before 1.21).
   * @default true
   */
  readonly preparedStatements?: boolean;
}

/** `operationTimeoutMs` bounds and default. */
export const OPERATION_TIMEOUT = { min: 100, max: 600_000, default: 10_000 } as const;

const SCHEMA_ALLOWED = 'a PostgreSQL identifier: a letter or _, then letters, digits or _, at most 48 characters';

const isPool = (v: unknown): boolean =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { query?: unknown }).query === 'function' &&
  typeof (v as { connect?: unknown }).connect === 'function';

export const postgresStoreOptionsSchema = z
  .strictObject(
    {
      connectionString: z.string({ error: 'a postgres:// connection string' }).min(1, { error: 'a non-empty connection string' }).optional(),
      schema: z
        .string({ error: SCHEMA_ALLOWED })
        .regex(/^[A-Za-z_][A-Za-z0-9_]{0,47}$/, { error: SCHEMA_ALLOWED })
        .default('async_invoker'),
      pool: z.custom<PgPool>(isPool, { error: 'a pg Pool (new pg.Pool(...))' }).optional(),
      retention: retentionSchema.optional(),
      max: intIn({ min: 2, max: 1000 }).default(10),
      operationTimeoutMs: intIn(OPERATION_TIMEOUT).default(OPERATION_TIMEOUT.default),
      preparedStatements: z.boolean({ error: 'true or false' }).default(true),
      createSchema: z.boolean({ error: 'true or false' }).default(true),
    },
    { error: 'an object { connectionString?, schema?, pool?, retention?, max?, operationTimeoutMs?, preparedStatements?, createSchema? }' },
  )
  .refine((o) => !(o.pool && o.connectionString !== undefined), {
    error: 'not set together with pool: the pool already says where to connect',
    path: ['connectionString'],
  });

export type ParsedPostgresStoreOptions = z.output<typeof postgresStoreOptionsSchema>;
