/**
 * The SQLite store: one better-sqlite3 connection per store, records as JSON rows changed with
 * the shared rules of record-rules.ts inside group-committed `BEGIN IMMEDIATE` transactions.
 * better-sqlite3 is synchronous, so each transaction is atomic within the process, and
 * `BEGIN IMMEDIATE` (the file's write lock) makes it atomic across processes sharing the file.
 */
import { nanoid } from 'nanoid';
import type BetterSqlite3 from 'better-sqlite3';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { applyClaim, applySettlement, applyStop, claimKindOf, createRecord, isPrunable, leaveWorkIndex } from '../record-rules.js';
import { ACTIVITY_RETENTION_MS } from '../contract.js';
import type {
  ActivityEntry,
  ActivityQuery,
  Claimed,
  ClaimRequest,
  ClaimResult,
  ClaimSlot,
  EnqueueResult,
  HeartbeatRequest,
  HeldBack,
  HeartbeatResult,
  ListPage,
  ListQuery,
  LogAppend,
  LogPage,
  NewInvocation,
  QueueStats,
  SettleOutcome,
  Settlement,
  StopRequest,
  StopResult,
  Store,
  StoreBackgroundTask,
  StoreSignal,
  StoredInvocation,
  WorkerPresence,
} from '../contract.js';
import { AsyncInvokerError, StoreError } from '../../errors.js';
import { RetentionTrigger } from '../retention.js';
import { messageOf, SignalHub, storeClosedError } from '../signal-hub.js';
import { endedTokens, limitsAnything } from '../claim-gate.js';
import { claimLimited, type ClaimSink } from './limited-claim.js';
import { Statements } from './statements.js';
import { WriteQueue, type Emit } from './write-queue.js';
import { ChangeWatcher } from './watch.js';

/**
 * How often a grouped claim adopts the function's groupless work (enqueued by a process that
 * had no groupBy for it) into a group of its own: a scan of the function's work, so spaced out.
 */
const ADOPTION_INTERVAL_MS = 30_000;

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
  readonly busyTimeoutMs: number;
  /** The file, for messages. */
  readonly label: string;
}

export class SqliteStore implements Store {
  readonly name = 'sqlite';
  readonly #ready: Promise<void>;
  #conn: Connection | undefined;
  #statements: Statements | undefined;
  #writes: WriteQueue | undefined;
  #watcher: ChangeWatcher | undefined;
  readonly #settings: SqliteSettings;
  readonly #hub = new SignalHub('sqlite');
  readonly #retention: RetentionTrigger;
  /** When each grouped function's groupless work was last adopted (see #adoptionDue). */
  readonly #adoptedAt = new Map<string, number>();
  /** The latest store time seen (claims and settlements carry it): the age cutoff of a pass. */
  #lastNow = -Infinity;
  #pruning = false;
  #closed = false;

  constructor(open: () => Promise<Connection>, settings: SqliteSettings) {
    this.#settings = settings;
    this.#retention = new RetentionTrigger(settings.maxCount);
    this.#ready = open().then((conn) => {
      if (this.#closed) {
        if (conn.owned) conn.db.close();
        return;
      }
      this.#conn = conn;
      this.#statements = new Statements(conn.db);
      this.#writes = new WriteQueue(conn.db, settings.groupCommit, (signals) => {
        for (const signal of signals) this.#hub.emit(signal);
      });
      this.#watcher = new ChangeWatcher(conn.db, this.#statements, conn.walPath, {
        emit: (signal) => this.#hub.emit(signal),
        report: (error) => this.#hub.report(this.#storeError('watching for other processes\' writes', error), 'subscriber'),
      });
      if (this.#hub.size) this.#watcher.start();
    });
    // Reported on each operation instead; never an unhandled rejection.
    this.#ready.catch(() => {});
  }

  enqueue(items: readonly NewInvocation[]): Promise<EnqueueResult[]> {
    return this.#write('enqueue', (sql, emit) => items.map((item) => this.#enqueueOne(sql, item, emit)));
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
    const result = await this.#write('claim', (sql) => {
      const { now, leaseMs } = request;
      const items: Claimed[] = [];
      let nextDueAt: number | undefined;
      let heldBack: HeldBack[] | undefined;
      const sink: ClaimSink = {
        take: (record, kind) => {
          const token = nanoid();
          applyClaim(record, kind, now, leaseMs, token);
          sql.update(record);
          items.push({ kind, leaseToken: token, record });
        },
        drop: (record) => {
          const leased = record.leaseToken !== undefined;
          leaveWorkIndex(record);
          sql.update(record);
          if (isPrunable(record) && leased) this.#retention.finished(1);
        },
      };
      const ended = endedTokens(request);
      for (const requested of request.slots) {
        const limit = Math.min(requested.limit, request.limit - items.length);
        if (limitsAnything(requested.limits)) {
          const adoptGroupless = requested.limits.grouped === true && this.#adoptionDue(requested.functionName, now);
          const held = claimLimited({ sql, slot: requested, limits: requested.limits, limit, now, adoptGroupless, ended }, sink);
          if (held) (heldBack ??= []).push(held);
        } else {
          this.#claimFree(sql, requested, limit, now, sink);
        }
        const next = sql.nextDue(requested.functionName);
        if (next !== undefined && (nextDueAt === undefined || next < nextDueAt)) nextDueAt = next;
      }
      return heldBack ? { items, nextDueAt, heldBack } : { items, nextDueAt };
    });
    this.#sawTime(request.now);
    return result;
  }

  /**
   * A slot without limits. Expired leases and free work in one order, oldest dueAt first: the
   * first of each (two ranges of the work index), merged. A due record with nothing to do
   * (final, owing nothing) leaves the work index and takes no place in the claim: the pages are
   * read again past a run of them.
   */
  #claimFree(sql: Statements, slot: ClaimSlot, limit: number, now: number, sink: ClaimSink): void {
    let taken = 0;
    for (let more = true; more && taken < limit; ) {
      const n = limit - taken;
      const page = [...sql.due(slot.functionName, true, now, n), ...sql.due(slot.functionName, false, now, n)]
        .sort((a, b) => a.dueAt! - b.dueAt!)
        .slice(0, n);
      more = false;
      for (const record of page) {
        const kind = claimKindOf(record, now, slot);
        if (kind) {
          sink.take(record, kind);
          taken++;
        } else {
          sink.drop(record);
          more = true;
        }
      }
    }
  }

  /** Groupless work of a grouped function is adopted at its first grouped claim, then every 30 s of store time. */
  #adoptionDue(functionName: string, now: number): boolean {
    const last = this.#adoptedAt.get(functionName);
    if (last !== undefined && now - last < ADOPTION_INTERVAL_MS) return false;
    this.#adoptedAt.set(functionName, now);
    return true;
  }

  async settle(items: readonly Settlement[]): Promise<SettleOutcome[]> {
    let finished = 0;
    const outcomes = await this.#write('settle', (sql, emit) =>
      items.map((s) => {
        const record = sql.get(s.requestId);
        const outcome = applySettlement(record, s);
        if (outcome !== 'ok' || !record) return outcome;
        sql.update(record);
        if (isPrunable(record)) finished++;
        if (record.leaseToken === undefined && record.dueAt !== undefined) {
          emit({ type: 'due', functionName: record.functionName, at: record.dueAt });
        } else if (s.wake) {
          // A limited function's slot freed: workers of this process held back claim again
          // (other processes' watchers see the commit).
          emit({ type: 'due', functionName: record.functionName, at: s.events[0]?.at ?? 0 });
        }
        return outcome;
      }),
    );
    this.#retention.finished(finished);
    for (const s of items) for (const e of s.events) this.#lastNow = Math.max(this.#lastNow, e.at);
    this.#sawTime(this.#lastNow);
    return outcomes;
  }

  heartbeat(request: HeartbeatRequest): Promise<HeartbeatResult> {
    return this.#write('heartbeat', (sql) => {
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

  requestStop(request: StopRequest): Promise<StopResult> {
    return this.#write('requestStop', (sql, emit) => {
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

  get(requestId: string): Promise<StoredInvocation | undefined> {
    return this.#read('get', (sql) => sql.get(requestId));
  }

  findByInvocationId(functionName: string, invocationId: string): Promise<StoredInvocation | undefined> {
    return this.#read('findByInvocationId', (sql) => sql.findByInvocationId(functionName, invocationId));
  }

  appendLogs(items: readonly LogAppend[]): Promise<void> {
    return this.#write('appendLogs', (sql) => {
      for (const item of items) sql.appendLogs(item);
    });
  }

  readLogs(requestId: string, after: number, limit: number): Promise<LogPage | undefined> {
    return this.#read('readLogs', (sql) => sql.readLogs(requestId, after, limit));
  }

  list(query: ListQuery): Promise<ListPage> {
    // Decoded outside the store's error mapping: a bad cursor is the caller's InvalidArgumentError.
    let after: ReturnType<typeof decodeCursor> | undefined;
    try {
      after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#read('list', (sql) => this.#list(sql, query, after));
  }

  #list(sql: Statements, query: ListQuery, after: ReturnType<typeof decodeCursor> | undefined): ListPage {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.functionName !== undefined) {
      where.push('function_name = ?');
      params.push(query.functionName);
    }
    if (query.invocationIdPrefix !== undefined) {
      // A range over the invocation-id index, not LIKE: '_' is a wildcard there and ids contain it.
      // Ids are ASCII, so every id with the prefix sorts below prefix + U+007F.
      where.push('invocation_id >= ? AND invocation_id < ?');
      params.push(query.invocationIdPrefix, `${query.invocationIdPrefix}\u007f`);
    }
    if (query.statuses) {
      where.push(`status IN (${query.statuses.map(() => '?').join(', ') || 'NULL'})`);
      params.push(...query.statuses);
      // The status index holds no Succeeded rows (006): said outright, SQLite may use it.
      if (!query.statuses.includes('Succeeded')) where.push("status <> 'Succeeded'");
    }
    if (query.since !== undefined) {
      where.push('created_at >= ?');
      params.push(query.since);
    }
    if (query.until !== undefined) {
      where.push('created_at < ?');
      params.push(query.until);
    }
    if (after !== undefined) {
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

  stats(functionNames?: readonly string[]): Promise<QueueStats> {
    return this.#read('stats', (sql) => this.#stats(sql, functionNames));
  }

  #stats(sql: Statements, functionNames?: readonly string[]): QueueStats {
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

  prune(now: number): Promise<number> {
    return this.#write('prune', (sql) => this.#pruneIn(sql, now));
  }

  #pruneIn(sql: Statements, now: number): number {
    this.#retention.ran(now);
    sql.pruneActivity(now - ACTIVITY_RETENTION_MS);
    return sql.pruneByAge(now - this.#settings.maxAgeMs) + sql.pruneByCount(this.#settings.maxCount);
  }

  /**
   * Notes store time; runs a retention pass in its own transaction when one is due (see
   * RetentionTrigger), so a failed pass never undoes the write that triggered it.
   */
  #sawTime(now: number): void {
    if (now > this.#lastNow) this.#lastNow = now;
    if (this.#pruning || this.#closed || !this.#retention.due(this.#lastNow)) return;
    this.#pruning = true;
    const at = this.#lastNow;
    this.prune(at).then(
      () => (this.#pruning = false),
      (error: unknown) => {
        this.#pruning = false;
        this.#retention.ran(at); // try again at the next batch or minute, not at every call
        if (!this.#closed) this.#hub.report(error, 'prune');
      },
    );
  }

  recordActivity(entries: readonly ActivityEntry[]): Promise<void> {
    return this.#write('recordActivity', (sql) => {
      for (const entry of entries) sql.recordActivity(entry);
    });
  }

  activity(query: ActivityQuery): Promise<ActivityEntry[]> {
    return this.#read('activity', (sql) => sql.activity(query.since, query.until, query.functionName));
  }

  announce(presence: WorkerPresence): Promise<void> {
    return this.#write('announce', (sql) => sql.announce(presence));
  }

  withdraw(workerId: string): Promise<void> {
    return this.#write('withdraw', (sql) => sql.withdraw(workerId));
  }

  workers(now: number): Promise<WorkerPresence[]> {
    return this.#write('workers', (sql) => {
      sql.lapse(now);
      return sql.workers(now);
    });
  }

  subscribe(listener: (signal: StoreSignal) => void): () => void {
    if (this.#closed) throw storeClosedError('sqlite', 'subscribe');
    const off = this.#hub.subscribe(listener);
    this.#watcher?.start();
    // Work already due was enqueued before this listener (maybe by another process): tell it.
    this.#read('subscribe', (sql) => sql.earliestFree()).then(
      (rows) => {
        for (const row of rows) if (!this.#closed) this.#hub.tell(listener, { type: 'due', functionName: row.function_name, at: row.at });
      },
      (error: unknown) => this.#hub.report(error, 'subscriber'),
    );
    return () => {
      off();
      if (this.#hub.size === 0) this.#watcher?.stop();
    };
  }

  onError(handler: (error: StoreError, during: StoreBackgroundTask) => void): () => void {
    if (this.#closed) throw storeClosedError('sqlite', 'onError');
    return this.#hub.onError(handler);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#hub.clear();
    this.#watcher?.stop();
    await this.#ready.catch(() => {});
    // Let writes already queued commit before the connection goes.
    if (this.#writes) await this.#writes.run(() => undefined).catch(() => {});
    if (this.#conn?.owned) this.#conn.db.close();
  }

  async #open(operation: string): Promise<{ writes: WriteQueue; sql: Statements }> {
    if (this.#closed) throw storeClosedError('sqlite', operation);
    if (this.#writes === undefined) await this.#ready;
    if (this.#closed || !this.#writes || !this.#statements) throw storeClosedError('sqlite', operation);
    return { writes: this.#writes, sql: this.#statements };
  }

  /** Runs `fn` in a (group-committed) write transaction; driver errors become StoreErrors. */
  async #write<T>(operation: string, fn: (sql: Statements, emit: Emit) => T): Promise<T> {
    const { writes, sql } = await this.#open(operation);
    try {
      return await writes.run((emit) => fn(sql, emit));
    } catch (error) {
      throw this.#storeError(operation, error);
    }
  }

  async #read<T>(operation: string, fn: (sql: Statements) => T): Promise<T> {
    const { sql } = await this.#open(operation);
    try {
      return fn(sql);
    } catch (error) {
      throw this.#storeError(operation, error);
    }
  }

  /** A driver error as a StoreError naming the file and what to check; the library's own errors pass through. */
  #storeError(operation: string, error: unknown): AsyncInvokerError {
    if (error instanceof AsyncInvokerError) return error;
    const code = (error as { code?: unknown } | null)?.code;
    const hint =
      code === 'SQLITE_BUSY'
        ? `another process held the database's write lock for longer than busyTimeoutMs (${this.#settings.busyTimeoutMs} ms)`
        : code === 'SQLITE_FULL'
          ? 'the disk is full'
          : code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM'
            ? "check the file's and its directory's permissions"
            : 'check the file and the disk';
    return new StoreError(`sqlite store (${this.#settings.label}): ${operation} failed: ${messageOf(error)}; ${hint}`, { cause: error });
  }
}
