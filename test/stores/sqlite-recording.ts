// A real SQLite database file whose statements note each execution (SQL and arguments) while
// recording is on: for tests that check which SQL the store runs and how SQLite plans it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export interface Execution {
  readonly sql: string;
  readonly args: readonly unknown[];
}

type Runner = (...args: unknown[]) => unknown;

export function recordingDatabase(): {
  db: Database.Database;
  executed: Execution[];
  record: (on: boolean) => void;
  remove: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'ai-sqlite-recording-'));
  const db = new Database(join(dir, 'store.db'));
  const executed: Execution[] = [];
  let recording = false;
  const prepare = db.prepare.bind(db) as (sql: string) => Database.Statement;
  (db as unknown as { prepare: (sql: string) => Database.Statement }).prepare = (sql) => {
    const statement = prepare(sql) as unknown as Record<'run' | 'get' | 'all', Runner>;
    for (const method of ['run', 'get', 'all'] as const) {
      const call = statement[method].bind(statement);
      statement[method] = (...args) => {
        if (recording) executed.push({ sql: sql.replace(/\s+/g, ' '), args });
        return call(...args);
      };
    }
    return statement as unknown as Database.Statement;
  };
  return {
    db,
    executed,
    record: (on) => (recording = on),
    remove: () => {
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
