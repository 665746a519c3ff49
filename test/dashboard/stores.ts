/**
 * The stores the dashboard's server tests run on. The dashboard uses the invoker's API only, so
 * every store must serve it the same way: add a factory here and every suite runs on it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import pg from 'pg';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryStore } from '../../src/stores/memory.js';
import { sqliteStore } from '../../src/stores/sqlite/index.js';
import type { Store } from '../../src/stores/contract.js';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { redisStore } from '../../src/stores/redis/index.js';
import { dropPrefix, REDIS_URL } from '../stores/redis-server.js';

const PG_URL = 'postgres://root@127.0.0.1:5432/test';

export interface StoreFactory {
  readonly name: string;
  /** A fresh, empty store; `cleanup` removes what it left behind (after the invoker closed it). */
  create(): { store: Store; cleanup(): Promise<void> | void };
}

export const memory: StoreFactory = { name: 'memory', create: () => ({ store: memoryStore(), cleanup: () => {} }) };

export const sqlite: StoreFactory = {
  name: 'sqlite',
  create() {
    const dir = mkdtempSync(join(tmpdir(), 'ai-dashboard-'));
    return { store: sqliteStore({ path: join(dir, 'dash.db') }), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  },
};

const run = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
let n = 0;

/** A key prefix of its own on the shared Redis, deleted afterwards. */
export const redis: StoreFactory = {
  name: 'redis',
  create() {
    const prefix = `dash-${run}-${n++}`;
    return { store: redisStore({ url: REDIS_URL, prefix }), cleanup: () => dropPrefix(prefix) };
  },
};

/** A schema of its own on the shared PostgreSQL, dropped afterwards. */
export const postgres: StoreFactory = {
  name: 'postgres',
  create() {
    const schema = `dash_${run}_${n++}`;
    return {
      store: postgresStore({ connectionString: PG_URL, schema }),
      async cleanup() {
        const admin = new pg.Client({ connectionString: PG_URL });
        await admin.connect();
        try {
          await admin.query(`drop schema if exists "${schema}" cascade`);
        } finally {
          await admin.end();
        }
      },
    };
  },
};

export const STORES: readonly StoreFactory[] = [memory, sqlite, redis, postgres];
