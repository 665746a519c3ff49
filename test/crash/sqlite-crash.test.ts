import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, it } from 'vitest';
import { sqliteStore } from '../../src/stores/sqlite/index.js';
import { CRASH_TEST_TIMEOUT_MS, expectNothingLost, runCrashTest } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'async-invoker-crash-'));
afterAll(() => { if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true }); });

it('loses nothing when workers sharing a SQLite file are SIGKILLed again and again', async () => {
  const path = join(dir, 'crash.db');
  const store = sqliteStore({ path });
  try {
    const report = await runCrashTest({ kind: 'sqlite', storeOptions: { path }, store, ledger: join(dir, 'ledger.txt') });
    expectNothingLost('sqlite', report);
  } finally {
    await store.close();
  }
}, CRASH_TEST_TIMEOUT_MS);
