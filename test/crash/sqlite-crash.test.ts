import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { sqliteStore } from '../../src/stores/sqlite/index.js';
import { runCrashTest } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'async-invoker-crash-'));
afterAll(() => { if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true }); });

it('loses nothing when workers sharing a SQLite file are SIGKILLed again and again', async () => {
  const path = join(dir, 'crash.db');
  const store = sqliteStore({ path });
  try {
    const report = await runCrashTest({ kind: 'sqlite', storeOptions: { path }, store, ledger: join(dir, 'ledger.txt') });
    console.log(
      `sqlite crash test: ${report.accepted} accepted, ${report.succeeded} succeeded, ${report.kills} kills, ` +
        `${report.duplicateRuns} duplicate runs (all after WorkerLost: ${report.unexplained.length === 0}), ` +
        `${report.lost.length} lost, ${report.stuck.length} stuck, ${(report.wallMs / 1000).toFixed(1)} s`,
    );
    expect(report.accepted).toBe(2000);
    expect(report.kills).toBeGreaterThanOrEqual(5);
    expect(report.lost).toEqual([]);
    expect(report.stuck).toEqual([]);
    expect(report.notSucceeded).toEqual([]);
    expect(report.unexplained).toEqual([]);
    expect(report.sameAttemptTwice).toEqual([]);
    expect(report.unexpectedExits).toEqual([]);
  } finally {
    await store.close();
  }
}, 90_000);
