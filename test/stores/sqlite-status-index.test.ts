// The SQLite status index leaves out Succeeded rows (migration 006): most rows, and a page of
// the WAL at every settlement. The queries that filter by status still read it, because they
// say `status <> 'Succeeded'` themselves (SQLite does not derive that from `status IN (...)`).
// A real database file; its statements are recorded to plan them again with EXPLAIN.
import type Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { sqliteStore } from '../../src/stores/sqlite/index.js';
import { createInvoker } from '../../src/invoker.js';
import { recordingDatabase } from './sqlite-recording.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** Entries in an index's leaf pages. */
const entries = (db: Database.Database, index: string): number =>
  Number(db.prepare("SELECT coalesce(sum(ncell), 0) FROM dbstat WHERE name = ? AND pagetype = 'leaf'").pluck().get(index));

const plan = (db: Database.Database, sql: string, args: readonly unknown[]): string =>
  db
    .prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .all(...args)
    .map((row) => (row as { detail: string }).detail)
    .join(' | ');

async function ranInvocations() {
  const recording = recordingDatabase();
  cleanups.push(recording.remove);
  const invoker = createInvoker({ store: sqliteStore({ database: recording.db }), concurrency: 4 });
  invoker.register('ok', () => null);
  invoker.register('broken', () => {
    throw new Error('no');
  }, { maxAsyncRetryAttempts: 0 });
  await invoker.invokeAsyncMany([
    ...Array.from({ length: 30 }, (_, i) => ({ name: 'ok', payload: { i } })),
    { name: 'broken', payload: {} },
  ]);
  await invoker.idle();
  return { invoker, ...recording };
}

it('keeps Succeeded invocations out of the status index and the others in it', async () => {
  const { invoker, db } = await ranInvocations();
  await invoker.close();
  const statuses = db.prepare('SELECT status, count(*) AS n FROM invocations GROUP BY status ORDER BY status').all();
  expect(statuses).toEqual([
    { status: 'Failed', n: 1 },
    { status: 'Succeeded', n: 30 },
  ]);
  expect(entries(db, 'invocations_status_created')).toBe(1);
  // The listing of everything still has every row.
  expect(entries(db, 'invocations_created')).toBe(31);
});

it('lists by status and counts the queue through the status index, and lists Succeeded through the created index', async () => {
  const { invoker, db, executed, record } = await ranInvocations();
  record(true);
  const failed = await invoker.listInvocations({ status: 'Failed' });
  const succeeded = await invoker.listInvocations({ status: 'Succeeded' });
  const mixed = await invoker.listInvocations({ status: ['Failed', 'Succeeded'] });
  const queue = await invoker.queueMetrics();
  record(false);
  await invoker.close();
  expect(failed.items.map((r) => r.functionName)).toEqual(['broken']);
  expect(succeeded.items).toHaveLength(30);
  expect(mixed.items).toHaveLength(31);
  expect(queue).toBeDefined();
  const plans = executed
    .filter((e) => e.sql.includes('status IN'))
    .map((e) => ({ sql: e.sql, statuses: e.args.filter((a) => typeof a === 'string'), plan: plan(db, e.sql, e.args) }));
  const listing = (statuses: string[]) => plans.find((p) => p.sql.startsWith('SELECT record') && p.statuses.join() === statuses.join());
  expect(listing(['Failed'])?.plan).toContain('USING INDEX invocations_status_created');
  expect(listing(['Succeeded'])?.plan).toContain('invocations_created');
  expect(listing(['Failed', 'Succeeded'])?.plan).not.toContain('invocations_status_created');
  const stats = plans.find((p) => p.sql.includes('GROUP BY function_name, status'));
  expect(stats?.plan).toContain('invocations_status_created');
});

it('migrates a file made before the change: the full status index becomes the partial one, rows kept', async () => {
  const { db, remove } = recordingDatabase();
  cleanups.push(remove);
  const first = createInvoker({ store: sqliteStore({ database: db }), concurrency: 2 });
  first.register('ok', () => null);
  await first.invokeAsyncMany(Array.from({ length: 5 }, (_, i) => ({ name: 'ok', payload: { i } })));
  await first.idle();
  await first.close();
  // The file as version 5 left it: the status index over every row.
  db.exec(`DROP INDEX invocations_status_created;
    CREATE INDEX invocations_status_created ON invocations (status, created_at, request_id);
    PRAGMA user_version = 5;`);
  expect(entries(db, 'invocations_status_created')).toBe(5);
  const second = createInvoker({ store: sqliteStore({ database: db }) });
  expect((await second.listInvocations({ status: 'Succeeded' })).items).toHaveLength(5);
  await second.close();
  expect(Number(db.pragma('user_version', { simple: true }))).toBe(6);
  expect(entries(db, 'invocations_status_created')).toBe(0);
});
