/**
 * `async-invoker/sqlite`: the embedded durable store. One file on local disk; several processes
 * on one machine may share it (producer in the web process, workers in others).
 *
 *   import { sqliteStore } from 'async-invoker/sqlite';
 *   const store = sqliteStore({ path: './invocations.db' });
 *
 * better-sqlite3 (^12) is an optional peer dependency, loaded on first use.
 *
 * @module async-invoker/sqlite
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type BetterSqlite3 from 'better-sqlite3';
import { intIn, parseOptions, retentionSchema } from '../../config.js';
import { StoreError } from '../../errors.js';
import { RETENTION_DEFAULTS, type RetentionOptions, type Store } from '../contract.js';
import { prepareDatabase } from './schema.js';
import { SqliteStore, type Connection } from './store.js';

/**
 * The parts of a better-sqlite3 `Database` the store uses: pass `new Database(path)`. Typed
 * structurally so that using this store's types needs no `@types/better-sqlite3`.
 */
export interface SqliteDatabase {
  readonly name: string;
  readonly memory: boolean;
  readonly open: boolean;
  readonly inTransaction: boolean;
  prepare(source: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  exec(source: string): unknown;
  close(): unknown;
}

export interface SqliteStoreOptions {
  /**
   * The database file; created (with its schema) if missing. Its directory must exist.
   * Set either `path` or `database`.
   * @example './data/invocations.db'
   */
  readonly path?: string;
  /**
   * An open better-sqlite3 Database to use instead of `path`. The store sets WAL mode and
   * creates its table in it, and leaves it open on `close()`.
   */
  readonly database?: SqliteDatabase;
  /** How long and how many finished invocations are kept. */
  readonly retention?: RetentionOptions;
  /**
   * How long a write waits for another process's write lock before failing, ms (0..60000).
   * @default 5000
   */
  readonly busyTimeoutMs?: number;
  /**
   * Group commit: writes made in the same tick share one transaction (one fsync). Turn off
   * only to measure what it buys.
   * @default true
   */
  readonly groupCommit?: boolean;
  /**
   * When a commit reaches the disk. `'full'`: every commit is fsynced before `invokeAsync` (or a
   * settlement) resolves, so acknowledged work survives a power cut or an OS crash. `'normal'`:
   * the WAL is fsynced only at checkpoints, so acknowledged work survives the process crashing
   * (SIGKILL included) but the last commits before a power cut or OS crash may be lost, for
   * several times fewer fsyncs (see the README's SQLite section for measured figures).
   * @default 'full'
   */
  readonly synchronous?: 'full' | 'normal';
}

const isDatabase = (value: unknown): value is SqliteDatabase =>
  typeof value === 'object' && value !== null && typeof (value as { prepare?: unknown }).prepare === 'function' &&
  typeof (value as { pragma?: unknown }).pragma === 'function';

const optionsSchema = z
  .strictObject(
    {
      path: z.string({ error: 'a file path string' }).min(1, { error: 'a non-empty file path' }).optional(),
      database: z.custom<SqliteDatabase>(isDatabase, { error: 'a better-sqlite3 Database (new Database(path))' }).optional(),
      retention: retentionSchema.optional(),
      busyTimeoutMs: intIn({ min: 0, max: 60_000 }).default(5000),
      groupCommit: z.boolean({ error: 'true or false' }).default(true),
      synchronous: z.enum(['full', 'normal'], { error: "'full' or 'normal'" }).default('full'),
    },
    { error: 'an object { path } or { database }, with optional retention, busyTimeoutMs, groupCommit, synchronous' },
  )
  .refine((o) => (o.path === undefined) !== (o.database === undefined), {
    error: 'set exactly one of path and database',
    path: ['path'],
  });

/** A durable store in a SQLite file (WAL, synchronous=FULL unless asked otherwise, group commit). */
export function sqliteStore(options: SqliteStoreOptions): Store {
  const o = parseOptions(optionsSchema, options, 'sqliteStore options');
  const settings = {
    maxAgeMs: (o.retention?.maxAgeSeconds ?? RETENTION_DEFAULTS.maxAgeSeconds) * 1000,
    maxCount: o.retention?.maxCount ?? RETENTION_DEFAULTS.maxCount,
    groupCommit: o.groupCommit,
    busyTimeoutMs: o.busyTimeoutMs,
    label: o.path ?? (o.database?.name || 'the database passed in'),
  };
  const open = async (): Promise<Connection> => {
    if (o.database) {
      // Checked structurally above; it is a better-sqlite3 Database.
      const db = o.database as unknown as BetterSqlite3.Database;
      const label = db.name || 'the database passed in';
      prepareDatabase(db, label, o.busyTimeoutMs, o.synchronous);
      return { db, owned: false, walPath: db.memory ? undefined : `${resolve(db.name)}-wal` };
    }
    const path = o.path!;
    const Database = await loadDriver();
    let db: BetterSqlite3.Database;
    try {
      db = new Database(path, { timeout: o.busyTimeoutMs });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new StoreError(`sqlite store: cannot open SQLite database ${path} (directory ${dirname(resolve(path))}): ${reason}; check that the directory exists and is writable`, { cause: error });
    }
    try {
      prepareDatabase(db, path, o.busyTimeoutMs, o.synchronous);
    } catch (error) {
      db.close();
      throw error;
    }
    return { db, owned: true, walPath: db.memory ? undefined : `${resolve(path)}-wal` };
  };
  return new SqliteStore(open, settings);
}

type DatabaseConstructor = typeof BetterSqlite3;

async function loadDriver(): Promise<DatabaseConstructor> {
  try {
    const mod = (await import('better-sqlite3')) as { default: DatabaseConstructor };
    return mod.default;
  } catch (error) {
    throw new StoreError(
      'sqliteStore needs the better-sqlite3 package (version 12): npm install better-sqlite3@12',
      { cause: error },
    );
  }
}
