/**
 * The durable stores the command line is tested on, each in a place of its own: a SQLite file in
 * a temporary directory, a Redis key prefix, a PostgreSQL schema. `url` is what the command gets
 * in --store; `open()` is the same store for the test process, which seeds it through the library.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Store } from '../../src/stores/contract.js';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { redisStore } from '../../src/stores/redis/index.js';
import { sqliteStore } from '../../src/stores/sqlite/index.js';
import { dropPrefix, REDIS_URL } from '../stores/redis-server.js';

export const PG_URL = process.env.PG_URL ?? 'postgres://root@127.0.0.1:5432/test';

export interface StoreFixture {
  readonly name: 'sqlite' | 'redis' | 'postgres';
  /** The --store URL. */
  readonly url: string;
  open(): Store;
  /** Removes everything the store holds (the file, the keys, the schema). */
  cleanup(): Promise<void>;
}

const id = () => randomBytes(4).toString('hex');

export function sqliteFixture(): StoreFixture {
  const dir = mkdtempSync(join(tmpdir(), 'async-invoker-cli-'));
  const path = join(dir, 'invocations.db');
  return {
    name: 'sqlite',
    url: `sqlite:${path}`,
    open: () => sqliteStore({ path }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function redisFixture(): StoreFixture {
  const prefix = `cli-${id()}`;
  return {
    name: 'redis',
    url: `${REDIS_URL}?prefix=${prefix}`,
    open: () => redisStore({ url: REDIS_URL, prefix }),
    cleanup: () => dropPrefix(prefix),
  };
}

export function postgresFixture(): StoreFixture {
  const schema = `ai_cli_${id()}`;
  return {
    name: 'postgres',
    url: `${PG_URL}?schema=${schema}`,
    open: () => postgresStore({ connectionString: PG_URL, schema, max: 4 }),
    cleanup: async () => {
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      try {
        await admin.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** One fresh fixture of each durable store, for `describe.each`. */
export const STORES: readonly { readonly name: string; readonly make: () => StoreFixture }[] = [
  { name: 'sqlite', make: sqliteFixture },
  { name: 'redis', make: redisFixture },
  { name: 'postgres', make: postgresFixture },
];
