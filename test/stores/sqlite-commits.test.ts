// A worker's settlement and the claim of its next work, made in the same turn, share one SQLite
// transaction (the store's group commit): at concurrency 1 one commit per invocation, not two.
// A real database file; its `prepare` is wrapped only to count the transactions begun.
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

/** A database file whose BEGIN IMMEDIATE statements count how often they run. */
function countingDatabase(): { db: Database.Database; begins: () => number } {
  const dir = mkdtempSync(join(tmpdir(), 'ai-sqlite-commits-'));
  dirs.push(dir);
  const db = new Database(join(dir, 'store.db'));
  let begins = 0;
  const prepare = db.prepare.bind(db) as (sql: string) => Database.Statement;
  (db as unknown as { prepare: (sql: string) => Database.Statement }).prepare = (sql) => {
    const statement = prepare(sql);
    if (sql !== 'BEGIN IMMEDIATE') return statement;
    const run = statement.run.bind(statement);
    (statement as unknown as { run: (...args: unknown[]) => Database.RunResult }).run = (...args) => {
      begins++;
      return run(...(args as []));
    };
    return statement;
  };
  return { db, begins: () => begins };
}

it('a worker at concurrency 1 commits each settlement with the claim of the next invocation', async () => {
  const { db, begins } = countingDatabase();
  const invoker = createInvoker({ store: sqliteStore({ database: db }), concurrency: 1 });
  let ran = 0;
  invoker.register('noop', () => void ran++);
  const n = 40;
  await invoker.idle();
  const before = begins();
  await invoker.invokeAsyncMany(Array.from({ length: n }, (_, i) => ({ name: 'noop', payload: { i } })));
  await invoker.idle();
  // The enqueue's transaction aside.
  const during = begins() - before - 1;
  await invoker.close();
  db.close();
  expect(ran).toBe(n);
  // Apart, a claim and a settlement per invocation would be 2n; together n and a few more
  // (the first claim, a background write or two).
  expect(during).toBeGreaterThanOrEqual(n - 1);
  expect(during).toBeLessThan(n + n / 4);
});
