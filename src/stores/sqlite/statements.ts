/**
 * The prepared statements of one connection, and the mapping between a record and its row.
 * Prepared once per store; every runtime statement is here so store.ts holds no SQL strings.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { StoredInvocation, WorkerPresence } from '../contract.js';
import { isPrunable, type MutableInvocation } from '../record-rules.js';

interface RecordRow {
  record: string;
}

export class Statements {
  readonly #db: BetterSqlite3.Database;
  readonly #get: BetterSqlite3.Statement<[string], RecordRow>;
  readonly #findIdempotent: BetterSqlite3.Statement<[string, string], { request_id: string; payload_key: string | null }>;
  readonly #insert: BetterSqlite3.Statement<unknown[]>;
  readonly #update: BetterSqlite3.Statement<unknown[]>;
  readonly #due: BetterSqlite3.Statement<[string, number, number, number], RecordRow>;
  readonly #nextDue: BetterSqlite3.Statement<[string, number], { at: number | null }>;
  readonly #pruneAge: BetterSqlite3.Statement<[number]>;
  readonly #pruneCount: BetterSqlite3.Statement<[number]>;
  readonly #earliestFree: BetterSqlite3.Statement<[], { function_name: string; at: number }>;
  readonly #stats: BetterSqlite3.Statement<[], { function_name: string; status: string; n: number; oldest: number }>;
  readonly #list = new Map<string, BetterSqlite3.Statement<unknown[], RecordRow>>();
  readonly #announce: BetterSqlite3.Statement<[string, number, string]>;
  readonly #withdraw: BetterSqlite3.Statement<[string]>;
  readonly #lapse: BetterSqlite3.Statement<[number]>;
  readonly #workers: BetterSqlite3.Statement<[number], { info: string }>;

  constructor(db: BetterSqlite3.Database) {
    this.#db = db;
    this.#get = db.prepare('SELECT record FROM invocations WHERE request_id = ?');
    this.#findIdempotent = db.prepare(
      'SELECT request_id, payload_key FROM invocations WHERE function_name = ? AND invocation_id = ?',
    );
    this.#insert = db.prepare(
      `INSERT INTO invocations (request_id, function_name, status, invocation_id, payload_key, created_at,
         ended_at, due_at, lease_token, leased, prunable, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#update = db.prepare(
      `UPDATE invocations SET status = ?, ended_at = ?, due_at = ?, lease_token = ?, leased = ?, prunable = ?, record = ?
       WHERE request_id = ?`,
    );
    this.#due = db.prepare(
      `SELECT record FROM invocations WHERE function_name = ? AND leased = ? AND due_at <= ? AND due_at IS NOT NULL
       ORDER BY due_at LIMIT ?`,
    );
    this.#nextDue = db.prepare(
      'SELECT min(due_at) AS at FROM invocations WHERE function_name = ? AND leased = ? AND due_at IS NOT NULL',
    );
    this.#pruneAge = db.prepare('DELETE FROM invocations WHERE prunable = 1 AND ended_at < ?');
    this.#pruneCount = db.prepare(
      `DELETE FROM invocations WHERE request_id IN (SELECT request_id FROM invocations WHERE prunable = 1
       ORDER BY ended_at DESC, request_id DESC LIMIT -1 OFFSET ?)`,
    );
    // Per function, the earliest free (not leased) due time: what other processes wake up for.
    // A skip-scan over the work index (next function name, then its minimum), so the cost grows
    // with the number of functions, not of waiting invocations.
    this.#earliestFree = db.prepare(
      `WITH RECURSIVE fns(name) AS (
         SELECT (SELECT min(function_name) FROM invocations WHERE due_at IS NOT NULL)
         UNION ALL
         SELECT (SELECT min(function_name) FROM invocations WHERE due_at IS NOT NULL AND function_name > fns.name)
         FROM fns WHERE fns.name IS NOT NULL
       )
       SELECT function_name, at FROM (
         SELECT name AS function_name,
           (SELECT min(due_at) FROM invocations WHERE function_name = fns.name AND leased = 0 AND due_at IS NOT NULL) AS at
         FROM fns WHERE name IS NOT NULL
       ) WHERE at IS NOT NULL`,
    );
    this.#announce = db.prepare(
      'INSERT INTO workers (worker_id, expires_at, info) VALUES (?, ?, ?) ON CONFLICT (worker_id) DO UPDATE SET expires_at = excluded.expires_at, info = excluded.info',
    );
    this.#withdraw = db.prepare('DELETE FROM workers WHERE worker_id = ?');
    this.#lapse = db.prepare('DELETE FROM workers WHERE expires_at <= ?');
    this.#workers = db.prepare('SELECT info FROM workers WHERE expires_at > ? ORDER BY worker_id');
    this.#stats = db.prepare(
      `SELECT function_name, status, count(*) AS n, min(created_at) AS oldest FROM invocations
       WHERE status IN ('Enqueued', 'Retrying', 'Running', 'Stopping') GROUP BY function_name, status`,
    );
  }

  /** Pending and running counts per function and status, from the status index. */
  stats() {
    return this.#stats.all();
  }

  get(requestId: string): MutableInvocation | undefined {
    const row = this.#get.get(requestId);
    return row ? parseRecord(row.record) : undefined;
  }

  findIdempotent(functionName: string, invocationId: string) {
    return this.#findIdempotent.get(functionName, invocationId);
  }

  insert(record: MutableInvocation, payloadKey: string | undefined): void {
    this.#insert.run(
      record.requestId, record.functionName, record.status, record.invocationId ?? null, payloadKey ?? null,
      record.createdAt, record.endedAt ?? null, record.dueAt ?? null, record.leaseToken ?? null,
      record.leaseToken === undefined ? 0 : 1, isPrunable(record) ? 1 : 0, JSON.stringify(record),
    );
  }

  update(record: MutableInvocation): void {
    this.#update.run(
      record.status, record.endedAt ?? null, record.dueAt ?? null, record.leaseToken ?? null,
      record.leaseToken === undefined ? 0 : 1, isPrunable(record) ? 1 : 0, JSON.stringify(record), record.requestId,
    );
  }

  /** Due records of a function, lowest dueAt first: leased ones (expired leases) or free ones. */
  due(functionName: string, leased: boolean, now: number, limit: number): MutableInvocation[] {
    return this.#due.all(functionName, leased ? 1 : 0, now, limit).map((r) => parseRecord(r.record));
  }

  nextDue(functionName: string): number | undefined {
    const a = this.#nextDue.get(functionName, 0)?.at ?? null;
    const b = this.#nextDue.get(functionName, 1)?.at ?? null;
    if (a === null) return b ?? undefined;
    return b === null ? a : Math.min(a, b);
  }

  pruneByAge(cutoff: number): number {
    return this.#pruneAge.run(cutoff).changes;
  }

  pruneByCount(keep: number): number {
    return this.#pruneCount.run(keep).changes;
  }

  earliestFree(): { function_name: string; at: number }[] {
    return this.#earliestFree.all();
  }

  /** Listing statements differ by which filters are present; each shape is prepared once. */
  list(sql: string, params: unknown[]): StoredInvocation[] {
    let stmt = this.#list.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare<unknown[], RecordRow>(sql);
      this.#list.set(sql, stmt);
    }
    return stmt.all(...params).map((r) => parseRecord(r.record));
  }

  announce(presence: WorkerPresence): void {
    this.#announce.run(presence.workerId, presence.expiresAt, JSON.stringify(presence));
  }

  withdraw(workerId: string): void {
    this.#withdraw.run(workerId);
  }

  /** Drops lapsed presences (a write). */
  lapse(now: number): void {
    this.#lapse.run(now);
  }

  workers(now: number): WorkerPresence[] {
    return this.#workers.all(now).map((r) => JSON.parse(r.info) as WorkerPresence);
  }
}

/** A stored record; rows written before a field existed read it as its default. */
function parseRecord(text: string): MutableInvocation {
  const record = JSON.parse(text) as MutableInvocation;
  record.lostAttempts ??= 0;
  record.interruptedAttempts ??= 0;
  return record;
}
