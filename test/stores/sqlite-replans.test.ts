// The statements a worker runs on every claim and settlement are planned once. SQLite as
// better-sqlite3 builds it (STAT4) plans with the value bound to a bare `LIMIT ?`, so each new
// binding re-prepares the statement: the claim's query took 8.3 us a call instead of 0.55, a
// third of a no-op invocation's CPU at concurrency 1. Nothing observable tells a re-prepare
// apart, so the rule is checked on the SQL the store executes, on a real database file.
import { afterEach, expect, it } from 'vitest';
import { sqliteStore } from '../../src/stores/sqlite/index.js';
import { createInvoker } from '../../src/invoker.js';
import { recordingDatabase } from './sqlite-recording.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

it('no statement a worker runs per invocation binds its LIMIT as a bare parameter', async () => {
  const { db, executed, record, remove } = recordingDatabase();
  cleanups.push(remove);
  const invoker = createInvoker({ store: sqliteStore({ database: db }), concurrency: 2 });
  let ran = 0;
  invoker.register('noop', () => void ran++);
  await invoker.idle();
  record(true);
  await invoker.invokeAsyncMany(Array.from({ length: 20 }, (_, i) => ({ name: 'noop', payload: { i } })));
  await invoker.idle();
  record(false);
  await invoker.close();
  expect(ran).toBe(20);
  const statements = new Set(executed.map((e) => e.sql));
  // The claim's due query ran: the check saw the statements that matter.
  expect([...statements].some((sql) => sql.includes('ORDER BY due_at, rowid'))).toBe(true);
  expect([...statements].filter((sql) => /\bLIMIT \?/i.test(sql))).toEqual([]);
});
