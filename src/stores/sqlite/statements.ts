/**
 * The prepared statements of one connection, and the mapping between a record and its row.
 * Prepared once per store; every runtime statement is here so store.ts holds no SQL strings.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { ActivityEntry, LogAppend, LogLevel, LogLine, StoredInvocation, WorkerPresence } from '../contract.js';
import { activityCells, activityFromCells } from '../activity.js';
import type { JsonValue } from '../../types.js';
import { linesToDrop, logLineBytes } from '../logs.js';
import { isPrunable, type MutableInvocation } from '../record-rules.js';
import type { RunningAttempt } from '../claim-gate.js';

interface RecordRow {
  record: string;
}

interface ActivityRow {
  function_name: string;
  minute: number;
  kind: string;
  bucket: number;
  count: number;
}

/** How long start rows of the perSecond window are kept (see `starts`). */
const START_ROWS_KEPT_MS = 10_000;

/** A group of a grouped function with free work: its head (if due) and round-robin place. */
export interface GroupRow {
  group_key: string;
  /** The rowid and due time of its earliest free work due by now; null when none is due yet. */
  head: number | null;
  head_at: number | null;
  last_started: number;
}

interface LogRow {
  seq: number;
  at: number;
  attempt: number;
  level: LogLevel;
  message: string;
  data: string | null;
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
  readonly #findById: BetterSqlite3.Statement<[string, string], RecordRow>;
  readonly #addActivity: BetterSqlite3.Statement<[string, number, string, number, number]>;
  readonly #activity: BetterSqlite3.Statement<[number, number], ActivityRow>;
  readonly #activityOf: BetterSqlite3.Statement<[number, number, string], ActivityRow>;
  readonly #pruneActivity: BetterSqlite3.Statement<[number]>;
  readonly #logState: BetterSqlite3.Statement<[string], { log_seq: number; log_dropped: number }>;
  readonly #insertLog: BetterSqlite3.Statement<unknown[]>;
  readonly #logSizes: BetterSqlite3.Statement<[string], { seq: number; bytes: number }>;
  readonly #dropLogs: BetterSqlite3.Statement<[string, number]>;
  readonly #setLogState: BetterSqlite3.Statement<[number, number, string]>;
  readonly #readLogs: BetterSqlite3.Statement<[string, number, number], LogRow>;
  readonly #byRowid: BetterSqlite3.Statement<[number], RecordRow>;
  readonly #runningGroups: BetterSqlite3.Statement<[string, number], { g: string; due_at: number; lease_token: string }>;
  readonly #starts: BetterSqlite3.Statement<[string, number], { at: number }>;
  readonly #addStart: BetterSqlite3.Statement<[string, number]>;
  readonly #dropStarts: BetterSqlite3.Statement<[string, number]>;
  readonly #groups: BetterSqlite3.Statement<{ fn: string; now: number }, GroupRow>;
  readonly #groupHead: BetterSqlite3.Statement<[string, string, number], { head: number; head_at: number }>;
  readonly #lastStarted: BetterSqlite3.Statement<[string], { seq: number }>;
  readonly #setStarted: BetterSqlite3.Statement<[string, string, number]>;
  readonly #forgetGroups: BetterSqlite3.Statement<{ fn: string }>;
  readonly #adoptGroupless: BetterSqlite3.Statement<[string]>;

  constructor(db: BetterSqlite3.Database) {
    this.#db = db;
    this.#get = db.prepare('SELECT record FROM invocations WHERE request_id = ?');
    this.#findIdempotent = db.prepare(
      'SELECT request_id, payload_key FROM invocations WHERE function_name = ? AND invocation_id = ?',
    );
    this.#insert = db.prepare(
      `INSERT INTO invocations (request_id, function_name, status, invocation_id, payload_key, created_at,
         ended_at, due_at, lease_token, leased, prunable, record, group_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#update = db.prepare(
      `UPDATE invocations SET status = ?, ended_at = ?, due_at = ?, lease_token = ?, leased = ?, prunable = ?, record = ?
       WHERE request_id = ?`,
    );
    // `LIMIT +?`, not `LIMIT ?`: SQLite (built with STAT4, as better-sqlite3 is) plans with the
    // value of a bare bound LIMIT, so every new binding re-prepares the statement: 8.3 us a call
    // instead of 0.55, on every claim. The one index serves any limit; the planner needs no value.
    this.#due = db.prepare(
      `SELECT record FROM invocations WHERE function_name = ? AND leased = ? AND due_at <= ? AND due_at IS NOT NULL
       ORDER BY due_at, rowid LIMIT +?`,
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
    this.#findById = db.prepare('SELECT record FROM invocations WHERE function_name = ? AND invocation_id = ?');
    this.#addActivity = db.prepare(
      `INSERT INTO activity (function_name, minute, kind, bucket, count) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (minute, function_name, kind, bucket) DO UPDATE SET count = count + excluded.count`,
    );
    this.#activity = db.prepare('SELECT function_name, minute, kind, bucket, count FROM activity WHERE minute >= ? AND minute < ?');
    this.#activityOf = db.prepare(
      'SELECT function_name, minute, kind, bucket, count FROM activity WHERE minute >= ? AND minute < ? AND function_name = ?',
    );
    this.#pruneActivity = db.prepare('DELETE FROM activity WHERE minute < ?');
    this.#logState = db.prepare('SELECT log_seq, log_dropped FROM invocations WHERE request_id = ?');
    this.#insertLog = db.prepare('INSERT INTO logs (request_id, seq, at, attempt, level, message, data, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.#logSizes = db.prepare('SELECT seq, bytes FROM logs WHERE request_id = ? ORDER BY seq');
    this.#dropLogs = db.prepare('DELETE FROM logs WHERE request_id = ? AND seq <= ?');
    this.#setLogState = db.prepare('UPDATE invocations SET log_seq = ?, log_dropped = ? WHERE request_id = ?');
    this.#readLogs = db.prepare('SELECT seq, at, attempt, level, message, data FROM logs WHERE request_id = ? AND seq > ? ORDER BY seq LIMIT ?');
    this.#byRowid = db.prepare('SELECT record FROM invocations WHERE rowid = ?');
    // Live leases of runs: a range of the work index (leased, lease expiry after now).
    this.#runningGroups = db.prepare(
      `SELECT coalesce(group_key, '') AS g, due_at, lease_token FROM invocations WHERE function_name = ? AND leased = 1 AND due_at > ?
       AND status IN ('Running', 'Stopping')`,
    );
    this.#starts = db.prepare('SELECT at FROM limit_starts WHERE function_name = ? AND at > ? ORDER BY at');
    this.#addStart = db.prepare('INSERT INTO limit_starts (function_name, at) VALUES (?, ?)');
    this.#dropStarts = db.prepare('DELETE FROM limit_starts WHERE function_name = ? AND at <= ?');
    // The groups with free work (a skip-scan of the group index: one seek per group), each with
    // the head due by now and its round-robin place.
    this.#groups = db.prepare(
      `WITH RECURSIVE g(k) AS (
         SELECT (SELECT min(group_key) FROM invocations
                 WHERE function_name = $fn AND leased = 0 AND group_key IS NOT NULL AND due_at IS NOT NULL)
         UNION ALL
         SELECT (SELECT min(group_key) FROM invocations
                 WHERE function_name = $fn AND leased = 0 AND group_key > g.k AND due_at IS NOT NULL)
         FROM g WHERE g.k IS NOT NULL
       ), heads AS (
         SELECT g.k AS group_key,
           (SELECT rowid FROM invocations WHERE function_name = $fn AND leased = 0 AND group_key = g.k
              AND due_at IS NOT NULL AND due_at <= $now ORDER BY due_at, rowid LIMIT 1) AS head
         FROM g WHERE g.k IS NOT NULL
       )
       SELECT heads.group_key, heads.head, i.due_at AS head_at, coalesce(lg.last_started, 0) AS last_started
       FROM heads
       LEFT JOIN invocations i ON i.rowid = heads.head
       LEFT JOIN limit_groups lg ON lg.function_name = $fn AND lg.group_key = heads.group_key`,
    );
    this.#groupHead = db.prepare(
      `SELECT rowid AS head, due_at AS head_at FROM invocations WHERE function_name = ? AND leased = 0 AND group_key = ?
       AND due_at IS NOT NULL AND due_at <= ? ORDER BY due_at, rowid LIMIT 1`,
    );
    this.#lastStarted = db.prepare('SELECT coalesce(max(last_started), 0) AS seq FROM limit_groups WHERE function_name = ?');
    this.#setStarted = db.prepare(
      `INSERT INTO limit_groups (function_name, group_key, last_started) VALUES (?, ?, ?)
       ON CONFLICT (function_name, group_key) DO UPDATE SET last_started = excluded.last_started`,
    );
    this.#forgetGroups = db.prepare(
      `DELETE FROM limit_groups WHERE function_name = $fn AND NOT EXISTS (SELECT 1 FROM invocations
         WHERE function_name = $fn AND leased = 0 AND group_key = limit_groups.group_key AND due_at IS NOT NULL)`,
    );
    this.#adoptGroupless = db.prepare(
      "UPDATE invocations SET group_key = '' WHERE function_name = ? AND group_key IS NULL AND due_at IS NOT NULL",
    );
    this.#stats = db.prepare(
      `SELECT function_name, status, count(*) AS n, min(created_at) AS oldest FROM invocations
       WHERE status IN ('Enqueued', 'Retrying', 'Running', 'Stopping') AND status <> 'Succeeded' GROUP BY function_name, status`,
    );
  }

  /** Pending and running counts per function and status, from the status index (whose rows say `status <> 'Succeeded'`, 006). */
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
      record.leaseToken === undefined ? 0 : 1, isPrunable(record) ? 1 : 0, JSON.stringify(record), record.groupKey ?? null,
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

  byRowid(rowid: number): MutableInvocation {
    return parseRecord(this.#byRowid.get(rowid)!.record);
  }

  /** The group key ('' for none) and lease end of each running attempt of the function (a live lease), less those `ended` (lease tokens) names. */
  *runningGroups(functionName: string, now: number, ended: ReadonlySet<string>): Iterable<RunningAttempt> {
    for (const row of this.#runningGroups.iterate(functionName, now)) if (!ended.has(row.lease_token)) yield [row.g, row.due_at];
  }

  /**
   * Start times in the one-second window ending at `now`, oldest first. Rows are deleted only
   * well past the window: a process whose `now` lags (it waited for the write lock) still counts
   * the starts a process ahead of it made.
   */
  starts(functionName: string, now: number): number[] {
    this.#dropStarts.run(functionName, now - START_ROWS_KEPT_MS);
    return this.#starts.all(functionName, now - 1000).map((r) => r.at);
  }

  addStart(functionName: string, at: number): void {
    this.#addStart.run(functionName, at);
  }

  groups(functionName: string, now: number): GroupRow[] {
    return this.#groups.all({ fn: functionName, now });
  }

  groupHead(functionName: string, groupKey: string, now: number): { head: number; head_at: number } | undefined {
    return this.#groupHead.get(functionName, groupKey, now);
  }

  lastStarted(functionName: string): number {
    return this.#lastStarted.get(functionName)!.seq;
  }

  setStarted(functionName: string, groupKey: string, seq: number): void {
    this.#setStarted.run(functionName, groupKey, seq);
  }

  /** Forgets the round-robin place of groups left with no free work. */
  forgetIdleGroups(functionName: string): void {
    this.#forgetGroups.run({ fn: functionName });
  }

  /** Work of the function enqueued without a group joins group '' (a scan of its work). */
  adoptGroupless(functionName: string): number {
    return this.#adoptGroupless.run(functionName).changes;
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

  findByInvocationId(functionName: string, invocationId: string): StoredInvocation | undefined {
    const row = this.#findById.get(functionName, invocationId);
    return row ? parseRecord(row.record) : undefined;
  }

  /** Appends (inside the caller's write transaction), then drops the oldest lines past the bounds. */
  appendLogs(item: LogAppend): void {
    const state = this.#logState.get(item.requestId);
    if (!state) return;
    // Lines the writer dropped took their seq numbers: a reader sees the gap.
    let seq = state.log_seq + (item.dropped ?? 0);
    for (const line of item.lines) {
      const data = line.data === undefined ? null : JSON.stringify(line.data);
      this.#insertLog.run(item.requestId, ++seq, line.at, line.attempt, line.level, line.message, data, logLineBytes(line));
    }
    const kept = this.#logSizes.all(item.requestId);
    const drop = linesToDrop(kept.map((r) => r.bytes), item.maxLines, item.maxBytes);
    if (drop > 0) this.#dropLogs.run(item.requestId, kept[drop - 1]!.seq);
    this.#setLogState.run(seq, state.log_dropped + (item.dropped ?? 0) + drop, item.requestId);
  }

  /** Undefined when there is no such invocation. */
  readLogs(requestId: string, after: number, limit: number): { lines: LogLine[]; dropped: number } | undefined {
    const state = this.#logState.get(requestId);
    if (!state) return undefined;
    const lines = this.#readLogs.all(requestId, after, limit).map((r): LogLine => {
      const line = { seq: r.seq, at: r.at, attempt: r.attempt, level: r.level, message: r.message };
      return r.data === null ? line : { ...line, data: JSON.parse(r.data) as JsonValue };
    });
    return { lines, dropped: state.log_dropped };
  }

  /** Adds the entry's counters (inside the caller's write transaction). */
  recordActivity(entry: ActivityEntry): void {
    for (const [kind, bucket, count] of activityCells(entry)) this.#addActivity.run(entry.functionName, entry.minute, kind, bucket, count);
  }

  activity(since: number, until: number, functionName: string | undefined): ActivityEntry[] {
    const rows = functionName === undefined ? this.#activity.all(since, until) : this.#activityOf.all(since, until, functionName);
    return activityFromCells(rows);
  }

  pruneActivity(before: number): number {
    return this.#pruneActivity.run(before).changes;
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
