/**
 * Opening a SQLite file as an async-invoker database: pragmas, recognising our files, and the
 * versioned migrations (numbered `.sql` files, applied in order, tracked in `user_version`).
 */
import { readFileSync } from 'node:fs';
import type BetterSqlite3 from 'better-sqlite3';
import { StoreError } from '../../errors.js';

/** Marks files created by this store (`PRAGMA application_id`): "AsIn". */
export const APPLICATION_ID = 0x4173496e;

/** Migration files, in order; `user_version` = how many have been applied. */
const MIGRATIONS = ['001-initial.sql', '002-workers.sql', '003-logs.sql', '004-activity.sql', '005-limits.sql', '006-status-index.sql'] as const;
export const SCHEMA_VERSION = MIGRATIONS.length;

function migrationSql(file: string): string {
  return readFileSync(new URL(`./migrations/${file}`, import.meta.url), 'utf8');
}

/**
 * Sets the pragmas and brings the schema up to date. Throws a StoreError naming `label` (the
 * path) for a file that is not a SQLite database, or a database that is not ours or is newer.
 */
export function prepareDatabase(db: BetterSqlite3.Database, label: string, busyTimeoutMs: number, synchronous: 'full' | 'normal'): void {
  try {
    // Waits for another process's write lock instead of failing at once.
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // WAL: readers never block the writer, and one fsync of the log per commit.
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (typeof mode === 'string' && mode.toLowerCase() !== 'wal' && label !== ':memory:') {
      throw new StoreError(`sqlite store: SQLite database ${label} could not switch to WAL mode (got ${mode})`);
    }
    // FULL: a commit is on disk before it returns, so an acknowledged invokeAsync survives a power
    // cut. NORMAL (in WAL mode): survives a process crash; the WAL is fsynced at checkpoints only.
    db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    migrate(db, label);
  } catch (error) {
    if (error instanceof StoreError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new StoreError(`sqlite store: cannot use ${label} as an async-invoker SQLite database: ${message}`, { cause: error });
  }
}

function migrate(db: BetterSqlite3.Database, label: string): void {
  const check = () => {
    const appId = Number(db.pragma('application_id', { simple: true }));
    const version = Number(db.pragma('user_version', { simple: true }));
    if (appId === 0) {
      const tables = Number(db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get());
      if (tables > 0) {
        throw new StoreError(`sqlite store: ${label} is a SQLite database of another application (it has tables but is not an async-invoker database)`);
      }
    } else if (appId !== APPLICATION_ID) {
      throw new StoreError(`sqlite store: ${label} is a SQLite database of another application (application_id ${appId})`);
    }
    if (version > SCHEMA_VERSION) {
      throw new StoreError(`sqlite store: ${label} has async-invoker schema version ${version}; this version of the library knows up to ${SCHEMA_VERSION}`);
    }
    return version;
  };
  if (check() === SCHEMA_VERSION) return;
  // IMMEDIATE: two processes opening a new file at once migrate it one after the other.
  db.exec('BEGIN IMMEDIATE');
  try {
    const version = check();
    for (let i = version; i < SCHEMA_VERSION; i++) db.exec(migrationSql(MIGRATIONS[i]!));
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
