// The statements a worker runs on every claim and settlement are planned once. SQLite as
// better-sqlite3 builds it (STAT4) plans with the value bound to a bare `LIMIT ?`, so each new
// binding re-prepares the statement: the claim's query took 8.3 us a call instead of 0.55, a
// third of a no-op invocation's CPU at concurrency 1. Nothing observable tells a re-prepare
// apart, so the rule is checked on the SQL the store executes, on a real database file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { sqliteStore } from '../../src/stores/sqlite/index.js';
import { createInvoker } from '../../src/invoker.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

type Runner = (...args: unknown[]) => unknown;

/** A database file whose statements note their SQL each time one runs, while `recording`. */
function recordingDatabase(): { db: Database.Database; executed: Set<string>; record: (on: boolean) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ai-sqlite-replans-'));
  dirs.push(dir);
  const db = new Database(join(dir, 'store.db'));
  const executed = new Set<string>();
  let recording = false;
  const prepare = db.prepare.bind(db) as (sql: string) => Database.Statement;
  (db as unknown as { prepare: (sql: string) => Database.Statement }).prepare = (sql) => {
    const statement = prepare(sql) as unknown as Record<'run' | 'get' | 'all', Runner>;
    for (const method of ['run', 'get', 'all'] as const) {
      const call = statement[method].bind(statement);
      statement[method] = (...args) => {
        if (recording) executed.add(sql.replace(/\s+/g, ' '));
        return call(...args);
      };
    }
    return statement as unknown as Database.Statement;
  };
  return { db, executed, record: (on) => (recording = on) };
}

it('no statement a worker runs per invocation binds its LIMIT as a bare parameter', async () => {
  const { db, executed, record } = recordingDatabase();
  const invoker = createInvoker({ store: sqliteStore({ database: db }), concurrency: 2 });
  let ran = 0;
  invoker.register('noop', () => void ran++);
  await invoker.idle();
  record(true);
  await invoker.invokeAsyncMany(Array.from({ length: 20 }, (_, i) => ({ name: 'noop', payload: { i } })));
  await invoker.idle();
  record(false);
  await invoker.close();
  db.close();
  expect(ran).toBe(20);
  // The claim's due query ran: the check saw the statements that matter.
  expect([...executed].some((sql) => sql.includes('ORDER BY due_at, rowid'))).toBe(true);
  expect([...executed].filter((sql) => /\bLIMIT \?/i.test(sql))).toEqual([]);
});
