/**
 * The SQLite store: one better-sqlite3 connection per store, records as JSON rows changed with
 * the shared rules of record-rules.ts inside group-committed `BEGIN IMMEDIATE` transactions.
 * better-sqlite3 is synchronous, so each transaction is atomic within the process, and
 * `BEGIN IMMEDIATE` (the file's write lock) makes it atomic across processes sharing the file.
 */
import { nanoid } from 'nanoid';
import type BetterSqlite3 from 'better-sqlite3';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { applyClaim, applySettlement, applyStop, claimKindOf, createRecord } from '../record-rules.js';
import type {
  Claimed,
  ClaimRequest,
  ClaimResult,
  EnqueueResult,
  HeartbeatRequest,
  HeartbeatResult,
  ListPage,
  ListQuery,
  NewInvocation,
  QueueStats,
  SettleOutcome,
  Settlement,
  StopRequest,
  StopResult,
  Store,
  StoreSignal,
  StoredInvocation,
} from '../contract.js';
import { StoreError } from '../../errors.js';
import { Statements } from './statements.js';
import { WriteQueue, type Emit } from './write-queue.js';
import { ChangeWatcher } from './watch.js';

/** Opportunistic retention runs at most this often (by the `now` of claims). */
const PRUNE_EVERY_MS = 1000;

export interface Connection {
  readonly db: BetterSqlite3.Database;
  /** Close the connection on `close()` (false for a database the user passed in). */
  readonly owned: boolean;
  /** The WAL file other processes write, or undefined for an in-memory database. */
  readonly walPath: string | undefined;
}

export interface SqliteSettings {
  readonly maxAgeMs: number;
  readonly maxCount: number;
  readonly groupCommit: boolean;
}

export class SqliteStore implements Store {
  readonly name = 'sqlite';
  readonly #ready: Promise<void>;
  #conn: Connection | undefined;
  #statements: Statements | undefined;
  #writes: WriteQueue | undefined;
  #watcher: ChangeWatcher | undefined;
  readonly #settings: SqliteSettings;
  readonly #listeners = new Set<(signal: StoreSignal) => void>();
  #lastPruneAt = -Infinity;
  #closed = false;

  constructor(open: () => Promise<Connection>, settings: SqliteSettings) {
    this.#settings = settings;
    this.#ready = open().then((conn) => {
      if (this.#closed) {
        if (conn.owned) conn.db.close();
        return;
      }
      this.#conn = conn;
      this.#statements = new Statements(conn.db);
      this.#writes = new WriteQueue(conn.db, settings.groupCommit, (signals) => {
        for (const signal of signals) this.#emit(signal);
      });
      this.#watcher = new ChangeWatcher(conn.db, this.#statements, conn.walPath, (signal) => this.#emit(signal));
      if (this.#listeners.size) this.#watcher.start();
    });
    // Reported on each operation instead; never an unhandled rejection.
    this.#ready.catch(() => {});
  }

  async enqueue(items: readonly NewInvocation[]): Promise<EnqueueResult[]> {
    const { writes, sql } = await this.#open();
    return writes.run((emit) => items.map((item) => this.#enqueueOne(sql, item, emit)));
  }

  #enqueueOne(sql: Statements, item: NewInvocation, emit: Emit): EnqueueResult {
    if (item.invocationId !== undefined) {
      const existing = sql.findIdempotent(item.functionName, item.invocationId);
      if (existing) {
        return { requestId: existing.request_id, outcome: existing.payload_key === (item.payloadKey ?? null) ? 'duplicate' : 'conflict' };
      }
    }
    const record = createRecord(item);
    sql.insert(record, item.payloadKey);
    emit({ type: 'due', functionName: record.functionName, at: record.dueAt! });
    return { requestId: record.requestId, outcome: 'created' };
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const { writes, sql } = await this.#open();
    return writes.run(() => {
      const { now, leaseMs } = request;
      const items: Claimed[] = [];
      let nextDueAt: number | undefined;
      for (const requested of request.slots) {
        const limit = Math.min(requested.limit, request.limit - items.length);
        let taken = 0;
        // Expired leases first (their workers are gone), then free work; each by dueAt.
        for (const leased of [true, false]) {
          if (taken >= limit) break;
          for (const record of sql.due(requested.functionName, leased, now, limit - taken)) {
            const kind = claimKindOf(record, now, requested);
            if (!kind) {
              // Due but nothing to do (a final record owing nothing): out of the work index,
              // or it would come back at the head of every claim.
              delete record.dueAt;
              sql.update(record);
              continue;
            }
            const token = nanoid();
            applyClaim(record, kind, now, leaseMs, token);
            sql.update(record);
            items.push({ kind, leaseToken: token, record });
            taken++;
          }
        }
        const next = sql.nextDue(requested.functionName);
        if (next !== undefined && (nextDueAt === undefined || next < nextDueAt)) nextDueAt = next;
      }
      if (now - this.#lastPruneAt >= PRUNE_EVERY_MS) this.#pruneIn(sql, now);
      return { items, nextDueAt };
    });
  }

  async settle(items: readonly Settlement[]): Promise<SettleOutcome[]> {
    const { writes, sql } = await this.#open();
    return writes.run((emit) =>
      items.map((s) => {
        const record = sql.get(s.requestId);
        const outcome = applySettlement(record, s);
        if (outcome !== 'ok' || !record) return outcome;
        sql.update(record);
        if (record.leaseToken === undefined && record.dueAt !== undefined) {
          emit({ type: 'due', functionName: record.functionName, at: record.dueAt });
        }
        return outcome;
      }),
    );
  }

  async heartbeat(request: HeartbeatRequest): Promise<HeartbeatResult> {
    const { writes, sql } = await this.#open();
    return writes.run(() => {
      const lost: string[] = [];
      const stopping: string[] = [];
      for (const lease of request.leases) {
        const record = sql.get(lease.requestId);
        if (!record || record.leaseToken !== lease.leaseToken) {
          lost.push(lease.requestId);
          continue;
        }
        record.dueAt = request.now + request.leaseMs;
        sql.update(record);
        if (record.status === 'Stopping') stopping.push(lease.requestId);
      }
      return { lost, stopping };
    });
  }

  async requestStop(request: StopRequest): Promise<StopResult> {
    const { writes, sql } = await this.#open();
    return writes.run((emit) => {
      const record = sql.get(request.requestId);
      const outcome = applyStop(record, request);
      if (!record) return { outcome };
      if (outcome === 'stopped' || outcome === 'stopping') {
        sql.update(record);
        if (outcome === 'stopping') emit({ type: 'stop', requestId: record.requestId });
        else if (record.dueAt !== undefined) emit({ type: 'due', functionName: record.functionName, at: record.dueAt });
      }
      return { outcome, record };
    });
  }

  async get(requestId: string): Promise<StoredInvocation | undefined> {
    const { sql } = await this.#open();
    return sql.get(requestId);
  }

  async list(query: ListQuery): Promise<ListPage> {
    const { sql } = await this.#open();
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.functionName !== undefined) {
      where.push('function_name = ?');
      params.push(query.functionName);
    }
    if (query.statuses) {
      where.push(`status IN (${query.statuses.map(() => '?').join(', ') || 'NULL'})`);
      params.push(...query.statuses);
    }
    if (query.since !== undefined) {
      where.push('created_at >= ?');
      params.push(query.since);
    }
    if (query.until !== undefined) {
      where.push('created_at < ?');
      params.push(query.until);
    }
    if (query.cursor !== undefined) {
      const after = decodeCursor(query.cursor);
      // A row-value comparison, so the index range starts at the cursor.
      where.push('(created_at, request_id) < (?, ?)');
      params.push(after.createdAt, after.requestId);
    }
    params.push(query.limit + 1);
    const text =
      `SELECT record FROM invocations${where.length ? ` WHERE ${where.join(' AND ')}` : ''}` +
      ' ORDER BY created_at DESC, request_id DESC LIMIT ?';
    const rows = sql.list(text, params);
    const items = rows.slice(0, query.limit);
    const last = items[items.length - 1];
    return rows.length > query.limit && last ? { items, nextCursor: encodeCursor(last) } : { items };
  }

  async stats(functionNames?: readonly string[]): Promise<QueueStats> {
    const { sql } = await this.#open();
    const wanted = functionNames ? new Set(functionNames) : undefined;
    const pending: Record<string, number> = {};
    const running: Record<string, number> = {};
    const oldestPendingAt: Record<string, number> = {};
    for (const row of sql.stats()) {
      const name = row.function_name;
      if (wanted && !wanted.has(name)) continue;
      if (row.status === 'Enqueued' || row.status === 'Retrying') {
        pending[name] = (pending[name] ?? 0) + row.n;
        if (oldestPendingAt[name] === undefined || row.oldest < oldestPendingAt[name]!) oldestPendingAt[name] = row.oldest;
      } else {
        running[name] = (running[name] ?? 0) + row.n;
      }
    }
    return { pending, running, oldestPendingAt };
  }

  async prune(now: number): Promise<number> {
    const { writes, sql } = await this.#open();
    return writes.run(() => this.#pruneIn(sql, now));
  }

  #pruneIn(sql: Statements, now: number): number {
    this.#lastPruneAt = now;
    return sql.pruneByAge(now - this.#settings.maxAgeMs) + sql.pruneByCount(this.#settings.maxCount);
  }

  subscribe(listener: (signal: StoreSignal) => void): () => void {
    this.#listeners.add(listener);
    this.#watcher?.start();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#watcher?.stop();
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    this.#watcher?.stop();
    await this.#ready.catch(() => {});
    // Let writes already queued commit before the connection goes.
    if (this.#writes) await this.#writes.run(() => undefined).catch(() => {});
    if (this.#conn?.owned) this.#conn.db.close();
  }

  async #open(): Promise<{ writes: WriteQueue; sql: Statements }> {
    if (this.#writes === undefined) await this.#ready;
    if (this.#closed || !this.#writes || !this.#statements) throw new StoreError('the sqlite store was closed');
    return { writes: this.#writes, sql: this.#statements };
  }

  #emit(signal: StoreSignal): void {
    for (const listener of this.#listeners) {
      // Signals are emitted between a commit and resolving its callers: a throwing listener
      // must not leave those callers hanging.
      try {
        listener(signal);
      } catch (error) {
        process.emitWarning(error instanceof Error ? error : String(error), 'AsyncInvokerStoreListener');
      }
    }
  }
}
