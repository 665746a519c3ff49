/**
 * Opens the store a `--store` URL names, with every wait bounded by `--timeout-ms` so that an
 * unreachable server fails in seconds. Store modules are imported on demand: a command on
 * SQLite never loads ioredis or pg.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import type { Store } from '../stores/contract.js';
import { CliError, EXIT, usageError } from './exit.js';
import type { StoreTarget } from './store-url.js';

export async function openStore(target: StoreTarget, timeoutMs: number): Promise<Store> {
  try {
    switch (target.kind) {
      case 'sqlite': {
        checkSqliteFile(target.path);
        const { sqliteStore } = await import('../stores/sqlite/index.js');
        return sqliteStore({ path: target.path, busyTimeoutMs: Math.min(timeoutMs, 60_000) });
      }
      case 'redis': {
        const { redisStore } = await import('../stores/redis/index.js');
        const where = target.cluster ? { cluster: [target.url] } : { url: target.url };
        return redisStore({ ...where, operationTimeoutMs: timeoutMs, ...(target.prefix !== undefined ? { prefix: target.prefix } : {}) });
      }
      case 'postgres': {
        const { postgresStore } = await import('../stores/postgres/index.js');
        return postgresStore({
          connectionString: target.connectionString,
          operationTimeoutMs: timeoutMs,
          // A command makes a few calls, one after another.
          max: 2,
          // It reads an existing store: a mistyped ?schema= must not create one.
          createSchema: false,
          ...(target.schema !== undefined ? { schema: target.schema } : {}),
        });
      }
    }
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw usageError(storeOptionMessage(target, error));
    throw error;
  }
}

/**
 * The command line reads an existing store; it never creates an empty database at a mistyped
 * path (the SQLite store would). The store itself checks the rest (a file that is not a database).
 */
function checkSqliteFile(path: string): void {
  const file = resolve(path);
  if (existsSync(file)) {
    if (statSync(file).isDirectory()) throw new CliError(`no SQLite database at ${file}: it is a directory; give the database file`, EXIT.unreachable);
    return;
  }
  const dir = dirname(file);
  const why = existsSync(dir) ? 'no such file' : `its directory ${dir} does not exist`;
  throw new CliError(
    `no SQLite database at ${file} (${why}); check the path in --store: it is relative to the current directory, and the store is created by your app, not by this command`,
    EXIT.unreachable,
  );
}

/** A store factory refused a setting that came from the URL: say which part of --store. */
function storeOptionMessage(target: StoreTarget, error: InvalidArgumentError): string {
  const option = error.field.replace(/^options\./, '');
  const part = option === 'prefix' || option === 'schema' ? `?${option}=` : option === 'url' || option === 'connectionString' ? 'URL' : option;
  return `--store ${part} must be ${error.allowed}; received ${JSON.stringify(error.value)} (in ${target.shown})`;
}
