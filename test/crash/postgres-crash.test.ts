import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { PG_URL, pgAvailable, randomSchema } from '../stores/postgres-cluster.js';
import { CRASH_TEST_TIMEOUT_MS, expectNothingLost, runCrashTest } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'async-invoker-pg-crash-'));
const schema = randomSchema('crash');
const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
admin.on('error', () => {});
const available = await pgAvailable(admin, 'postgres crash test');

afterAll(async () => {
  if (available) await admin.query(`drop schema if exists "${schema}" cascade`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(available)('postgres crash safety', () => {
  it('loses nothing when workers sharing a schema are SIGKILLed again and again', async () => {
    const storeOptions = { connectionString: PG_URL, schema, max: 4 };
    const store = postgresStore(storeOptions);
    try {
      const report = await runCrashTest({ kind: 'postgres', storeOptions, store, ledger: join(dir, 'ledger.txt') });
      expectNothingLost('postgres', report);
    } finally {
      await store.close();
    }
  }, CRASH_TEST_TIMEOUT_MS);
});
