/** postgresStore options: types, defaults and their zod schema (checked once, at the factory). */
import { z } from 'zod';
import type { Pool } from 'pg';
import type { RetentionOptions } from '../contract.js';

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
   */
  readonly pool?: Pool;
  /** How long and how many finished invocations are kept. */
  readonly retention?: RetentionOptions;
  /**
   * Connections in the pool the store opens (ignored with `pool`).
   * @default 10
   */
  readonly max?: number;
}

const SCHEMA_ALLOWED = 'a PostgreSQL identifier: a letter or _, then letters, digits or _, at most 48 characters';

const isPool = (v: unknown): boolean =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { query?: unknown }).query === 'function' &&
  typeof (v as { connect?: unknown }).connect === 'function';

const intIn = (min: number, max: number) => {
  const allowed = `an integer from ${min} to ${max}`;
  return z.number({ error: allowed }).int({ error: allowed }).min(min, { error: allowed }).max(max, { error: allowed });
};

export const postgresStoreOptionsSchema = z
  .strictObject(
    {
      connectionString: z.string({ error: 'a postgres:// connection string' }).min(1, { error: 'a non-empty connection string' }).optional(),
      schema: z
        .string({ error: SCHEMA_ALLOWED })
        .regex(/^[A-Za-z_][A-Za-z0-9_]{0,47}$/, { error: SCHEMA_ALLOWED })
        .default('async_invoker'),
      pool: z.custom<Pool>(isPool, { error: 'a pg Pool (new pg.Pool(...))' }).optional(),
      retention: z
        .strictObject(
          {
            maxAgeSeconds: intIn(1, 315_360_000).optional(),
            maxCount: intIn(0, 1_000_000_000).optional(),
          },
          { error: 'an object { maxAgeSeconds?, maxCount? }' },
        )
        .optional(),
      max: intIn(2, 1000).default(10),
    },
    { error: 'an object { connectionString?, schema?, pool?, retention?, max? }' },
  )
  .refine((o) => !(o.pool && o.connectionString !== undefined), {
    error: 'not set together with pool: the pool already says where to connect',
    path: ['connectionString'],
  });

export type ParsedPostgresStoreOptions = z.output<typeof postgresStoreOptionsSchema>;
