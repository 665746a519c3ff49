/**
 * The PostgreSQL store. Every state change is one SQL statement over many invocations (see
 * sql/*.sql): claims lock due rows with FOR NO KEY UPDATE SKIP LOCKED and fence by lease token, so
 * any number of processes can share one schema. A claim for a function with limits locks the
 * function's row first, and decides in one statement or a short transaction (claimer.ts).
 * Wake-ups travel by LISTEN/NOTIFY. Execution logs live in their own tables (logs, log_counters),
 * locked apart from the invocations' rows.
 *
 * Faults: every statement goes through #query, which maps what pg throws to a StoreError
 * (errors.ts); the pool bounds each wait by operationTimeoutMs. Work the store does on its own
 * (retention passes, the LISTEN connection, signal listeners) reports to onError handlers.
 */
import type { Pool } from 'pg';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { StoreError } from '../../errors.js';
import type { InvocationStatus } from '../../types.js';
import {
  ACTIVITY_RETENTION_MS,
  RETENTION_DEFAULTS,
  type ActivityEntry,
  type ActivityQuery,
  type ClaimRequest,
  type ClaimResult,
  type EnqueueResult,
  type HeartbeatRequest,
  type HeartbeatResult,
  type ListPage,
  type ListQuery,
  type LogAppend,
  type LogLine,
  type LogPage,
  type NewInvocation,
  type QueueStats,
  type SettleOutcome,
  type Settlement,
  type StopRequest,
  type StopResult,
  type Store,
  type StoreBackgroundTask,
  type StoreSignal,
  type StoredInvocation,
  type WorkerPresence,
} from '../contract.js';
import { storeClosedError } from '../signal-hub.js';
import { Claimer, type ClaimRow } from './claimer.js';
import { inTransaction, namedQuery } from './transaction.js';
import { migrate, openPool, type TimedQuery } from './connect.js';
import { toStoreError, type ErrorContext } from './errors.js';
import type { ParsedPostgresStoreOptions } from './options.js';
import { PlannerRefresh } from './planner-refresh.js';
import { Pruner } from './pruner.js';
import { Signals } from './signals.js';
import { UnsentSettlements } from './unsent-settlements.js';
import {
  activityParam,
  appendLogsParam,
  enqueueParams,
  presenceParam,
  settleParam,
  type SettledRow,
  toActivity,
  toPresence,
  toQueueStats,
  toLogLine,
  toRecord,
  trimLogsParam,
  type ActivityRow,
  type LogRow,
  type PresenceRow,
  type RecordRow,
  type StatsRow,
} from './rows.js';
import { loadStatements, type StatementName, type StatementNames, type Statements } from './statements.js';

interface Ready {
  readonly pool: Pool;
  readonly sql: Statements;
  /** Prepared-statement names (none with preparedStatements: false). */
  readonly names: StatementNames;
}

export class PostgresStore implements Store {
  readonly name = 'postgres';
  readonly #options: ParsedPostgresStoreOptions;
  readonly #errors: ErrorContext;
  readonly #signals: Signals;
  readonly #maxAgeMs: number;
  readonly #maxCount: number;
  readonly #pruner: Pruner;
  readonly #planner: PlannerRefresh;
  /** The pool this store opened (never a pool passed in), once asked for. */
  #pool: Promise<Pool> | undefined;
  /** The pool and the schema, migrated: set again after a failed first use (server down). */
  #ready: Promise<Ready> | undefined;
  #closed: Promise<void> | undefined;
  /** Operations under way, and who waits for them to end. */
  #active = 0;
  #drained: (() => void) | undefined;
  readonly #claimer: Claimer;
  /** Settlements waiting a turn for a claim to carry them (settle-claim). */
  readonly #unsent = new UnsentSettlements((items) => this.#settle(items));

  constructor(options: ParsedPostgresStoreOptions) {
    this.#options = options;
    this.#errors = { schema: options.schema, operationTimeoutMs: options.operationTimeoutMs };
    this.#signals = new Signals({
      schema: options.schema,
      connect: async () => (await this.#open()).pool.connect(),
      toError: (error) => toStoreError(error, 'the LISTEN connection (wake-ups)', this.#errors),
    });
    this.#maxAgeMs = (options.retention?.maxAgeSeconds ?? RETENTION_DEFAULTS.maxAgeSeconds) * 1000;
    this.#maxCount = options.retention?.maxCount ?? RETENTION_DEFAULTS.maxCount;
    this.#pruner = new Pruner({
      maxCount: this.#maxCount,
      pass: (now, asked) => this.#prune(now, asked ? 'prune' : 'a retention pass'),
      onError: (error) => this.#signals.report(toStoreError(error, 'a retention pass', this.#errors), 'prune'),
    });
    this.#planner = new PlannerRefresh({
      refresh: async () => {
        await this.#rows('refresh-stats', []);
      },
      onError: (error) => this.#signals.report(toStoreError(error, "refreshing the planner's statistics", this.#errors), 'analyze'),
    });
    this.#claimer = new Claimer({
      query: (name, values) => this.#query('claim', name, values),
      claimStatement: (values) => this.#claimStatement(values),
      transaction: async (work) => {
        try {
          const { pool, sql } = await this.#open();
          // Unprepared: its statements share a pipelined connection, where pg's bookkeeping of
          // named statements is newer than we care to lean on, and these claims are the rare way.
          return await inTransaction(pool, sql, {}, options.operationTimeoutMs, work);
        } catch (error) {
          throw toStoreError(error, 'claim', this.#errors);
        }
      },
      signals: this.#signals,
      pruner: this.#pruner,
    });
  }

  /** Opens the pool and migrates the schema, once, on first use. */
  #open(): Promise<Ready> {
    if (!this.#ready) {
      const ready = (async () => {
        const { statements, names, migrations } = await loadStatements(this.#options.schema);
        const pool = await this.#openPool();
        await migrate(pool, this.#options.schema, migrations, this.#options.createSchema);
        return { pool, sql: statements, names: this.#options.preparedStatements ? names : {} };
      })();
      this.#ready = ready;
      // A failed first use (server down) must not poison later calls: the next one tries again.
      ready.catch(() => {
        if (this.#ready === ready) this.#ready = undefined;
      });
    }
    return this.#ready;
  }

  #openPool(): Promise<Pool> {
    // Checked structurally by the options schema; it is a pg Pool.
    if (this.#options.pool) return Promise.resolve(this.#options.pool as unknown as Pool);
    this.#pool ??= openPool(this.#options.connectionString, this.#options.max, this.#options.operationTimeoutMs);
    return this.#pool;
  }

  // Public operations run through #op: close() waits for those under way (a claim is more
  // than one statement) before it ends the pool, and refuses new ones.
  enqueue(items: readonly NewInvocation[]): Promise<EnqueueResult[]> {
    return this.#op('enqueue', () => this.#enqueue(items));
  }

  claim(request: ClaimRequest): Promise<ClaimResult> {
    return this.#op('claim', () => this.#claimer.claim(request));
  }

  settle(items: readonly Settlement[]): Promise<SettleOutcome[]> {
    const settled = this.#op('settle', () => this.#unsent.add(items));
    this.#claimer.settling(items, settled);
    return settled;
  }

  heartbeat(request: HeartbeatRequest): Promise<HeartbeatResult> {
    return this.#op('heartbeat', () => this.#heartbeat(request));
  }

  requestStop(request: StopRequest): Promise<StopResult> {
    return this.#op('requestStop', () => this.#requestStop(request));
  }

  get(requestId: string): Promise<StoredInvocation | undefined> {
    return this.#op('get', () => this.#get(requestId));
  }

  findByInvocationId(functionName: string, invocationId: string): Promise<StoredInvocation | undefined> {
    return this.#op('findByInvocationId', async () => {
      const [row] = await this.#query<RecordRow>('findByInvocationId', 'find-by-invocation-id', [functionName, invocationId]);
      return row ? toRecord(row) : undefined;
    });
  }

  appendLogs(items: readonly LogAppend[]): Promise<void> {
    return this.#op('appendLogs', () => this.#appendLogs(items));
  }

  readLogs(requestId: string, after: number, limit: number): Promise<LogPage | undefined> {
    return this.#op('readLogs', () => this.#readLogs(requestId, after, limit));
  }

  list(query: ListQuery): Promise<ListPage> {
    return this.#op('list', () => this.#list(query));
  }

  stats(functionNames?: readonly string[]): Promise<QueueStats> {
    return this.#op('stats', () => this.#stats(functionNames));
  }

  prune(now: number): Promise<number> {
    return this.#op('prune', () => this.#pruner.force(now));
  }

  recordActivity(entries: readonly ActivityEntry[]): Promise<void> {
    return this.#op('recordActivity', async () => {
      if (entries.length) await this.#query('recordActivity', 'record-activity', [activityParam(entries)]);
    });
  }

  activity(query: ActivityQuery): Promise<ActivityEntry[]> {
    return this.#op('activity', async () =>
      toActivity(await this.#query<ActivityRow>('activity', 'activity', [query.since, query.until, query.functionName ?? null])),
    );
  }

  announce(presence: WorkerPresence): Promise<void> {
    return this.#op('announce', async () => {
      await this.#query('announce', 'announce', [presence.workerId, presence.expiresAt, presenceParam(presence)]);
    });
  }

  withdraw(workerId: string): Promise<void> {
    return this.#op('withdraw', async () => {
      await this.#query('withdraw', 'withdraw', [workerId]);
    });
  }

  workers(now: number): Promise<WorkerPresence[]> {
    return this.#op('workers', async () => (await this.#query<PresenceRow>('workers', 'workers', [now])).map(toPresence));
  }

  async #op<T>(operation: string, run: () => Promise<T>): Promise<T> {
    if (this.#closed) throw storeClosedError(this.name, operation);
    this.#active++;
    try {
      return await run();
    } finally {
      if (--this.#active === 0) this.#drained?.();
    }
  }

  /** Runs one statement; whatever fails (connecting, migrating, the statement) is a StoreError. */
  async #query<R extends object>(operation: string, name: StatementName, values: unknown[]): Promise<R[]> {
    try {
      return await this.#rows<R>(name, values);
    } catch (error) {
      throw toStoreError(error, operation, this.#errors);
    }
  }

  /** One statement's rows; what fails is pg's error, as it comes (callers map it). */
  async #rows<R extends object>(name: StatementName, values: unknown[]): Promise<R[]> {
    const { pool, sql, names } = await this.#open();
    // The answer timeout per statement as well: it then holds for a pool passed in too.
    const query: TimedQuery = namedQuery(sql, names, name, values, this.#options.operationTimeoutMs);
    return (await pool.query<R>(query)).rows;
  }

  async #enqueue(items: readonly NewInvocation[]): Promise<EnqueueResult[]> {
    if (items.length === 0) return [];
    const params = [...enqueueParams(items), this.#signals.channel, this.#signals.self];
    // One row per item not inserted (none in the usual case), with who holds its invocation id.
    // Without invocation ids nothing can repeat: a plain insert, with no such rows to answer.
    let skipped: { ord: number; request_id: string | null; payload_key: string | null }[] = [];
    if (items.some((item) => item.invocationId !== undefined)) skipped = await this.#query('enqueue', 'enqueue', params);
    else await this.#query('enqueue', 'enqueue-unkeyed', params);
    const results = new Array<EnqueueResult>(items.length);
    const unresolved = new Set<number>();
    for (const row of skipped) {
      const i = row.ord - 1;
      const item = items[i]!;
      if (item.invocationId === undefined) {
        throw new StoreError(`postgres store: enqueue failed: requestId ${JSON.stringify(item.requestId)} is already taken`);
      }
      if (row.request_id === null) unresolved.add(i);
      else results[i] = { requestId: row.request_id, outcome: row.payload_key === (item.payloadKey ?? null) ? 'duplicate' : 'conflict' };
    }
    const due: [string, number][] = [];
    for (let i = 0; i < items.length; i++) {
      if (results[i] !== undefined || unresolved.has(i)) continue;
      const item = items[i]!;
      results[i] = { requestId: item.requestId, outcome: 'created' };
      due.push([item.functionName, item.scheduledAt]);
    }
    if (unresolved.size) await this.#resolveRepeats(items, [...unresolved], results);
    this.#signals.due(due);
    this.#planner.wrote(due.length);
    return results;
  }

  /**
   * Items whose invocation id a record committed after the enqueue's snapshot holds (another
   * process enqueued it at the same moment): find that record.
   */
  async #resolveRepeats(items: readonly NewInvocation[], unresolved: readonly number[], results: EnqueueResult[]): Promise<void> {
    const names = unresolved.map((i) => items[i]!.functionName);
    const ids = unresolved.map((i) => items[i]!.invocationId!);
    const rows = await this.#query<{ function_name: string; invocation_id: string; request_id: string; payload_key: string | null }>(
      'enqueue',
      'find-idempotent',
      [names, ids],
    );
    const holders = new Map(rows.map((r) => [`${r.function_name}\u0000${r.invocation_id}`, r]));
    for (const i of unresolved) {
      const item = items[i]!;
      const holder = holders.get(`${item.functionName}\u0000${item.invocationId}`);
      // Inserted and pruned in between: rare enough to retry the item alone.
      if (!holder) {
        results[i] = (await this.#enqueue([item]))[0]!;
        continue;
      }
      const duplicate = holder.payload_key === (item.payloadKey ?? null);
      results[i] = { requestId: holder.request_id, outcome: duplicate ? 'duplicate' : 'conflict' };
    }
  }

  async #settle(items: readonly Settlement[]): Promise<SettleOutcome[]> {
    const outcomes: SettleOutcome[] = new Array<SettleOutcome>(items.length);
    // One statement updates a row once: a second settlement of the same invocation in the
    // batch goes in a later statement, in order.
    let rest = items.map((s, ord) => ({ s, ord }));
    while (rest.length) {
      const seen = new Set<string>();
      const now: typeof rest = [];
      const later: typeof rest = [];
      for (const entry of rest) {
        if (seen.has(entry.s.requestId)) later.push(entry);
        else {
          seen.add(entry.s.requestId);
          now.push(entry);
        }
      }
      const rows = await this.#query<SettledRow>('settle', 'settle', [
        settleParam(now.map((e) => e.s), now.map((e) => e.ord)),
        this.#signals.channel,
        this.#signals.self,
      ]);
      this.#settledRows(rows, outcomes);
      rest = later;
    }
    this.#pruner.settled(items, outcomes);
    this.#planner.wrote(items.length);
    return outcomes;
  }

  /** settle.sql's answer: each outcome in its place, and the signals it calls for. */
  #settledRows(rows: readonly SettledRow[], outcomes: SettleOutcome[]): void {
    const due: [string, number][] = [];
    for (const row of rows) {
      outcomes[row.ord] = row.outcome;
      if (row.function_name === null || row.due_at === null) continue;
      due.push([row.function_name, Number(row.due_at)]);
      if (row.woke) this.#signals.woke(row.function_name);
    }
    this.#signals.due(due);
  }

  /**
   * claim.sql with `values` ($1-$4); with the settlements waiting to be sent, if any, in the
   * same statement (settle-claim). A failure fails both, each as its own operation's error.
   */
  async #claimStatement(values: readonly unknown[]): Promise<ClaimRow[]> {
    const carried = this.#unsent.take();
    if (!carried) {
      const rows = await this.#query<ClaimRow>('claim', 'claim', [...values, []]);
      this.#planner.wrote(claimedRows(rows));
      return rows;
    }
    const { items } = carried;
    let rows: (ClaimRow & { settled: SettledRow[] })[];
    try {
      const settle = [settleParam(items, items.map((_, ord) => ord)), this.#signals.channel, this.#signals.self];
      rows = await this.#rows<ClaimRow & { settled: SettledRow[] }>('settle-claim', [...values, items.map((s) => s.requestId), ...settle]);
    } catch (error) {
      carried.failed(toStoreError(error, 'settle', this.#errors));
      throw toStoreError(error, 'claim', this.#errors);
    }
    const outcomes = new Array<SettleOutcome>(items.length);
    this.#settledRows(rows[0]!.settled, outcomes);
    this.#pruner.settled(items, outcomes);
    this.#planner.wrote(items.length + claimedRows(rows));
    carried.settled(outcomes);
    return rows;
  }

  async #heartbeat(request: HeartbeatRequest): Promise<HeartbeatResult> {
    if (request.leases.length === 0) return { lost: [], stopping: [] };
    const param = JSON.stringify(request.leases.map((l) => ({ request_id: l.requestId, lease_token: l.leaseToken })));
    const rows = await this.#query<{ request_id: string; status: InvocationStatus | null }>('heartbeat', 'heartbeat', [
      param,
      request.now + request.leaseMs,
    ]);
    const lost: string[] = [];
    const stopping: string[] = [];
    for (const row of rows) {
      if (row.status === null) lost.push(row.request_id);
      else if (row.status === 'Stopping') stopping.push(row.request_id);
    }
    return { lost, stopping };
  }

  async #requestStop(request: StopRequest): Promise<StopResult> {
    const rows = await this.#query<RecordRow>('requestStop', 'stop', [
      request.requestId,
      request.now,
      request.deliverOnFailure,
      this.#signals.channel,
      this.#signals.self,
    ]);
    if (rows[0]) {
      const record = toRecord(rows[0]);
      if (record.status === 'Stopping') {
        this.#signals.stop(record.requestId);
        return { outcome: 'stopping', record };
      }
      if (record.dueAt !== undefined) this.#signals.due([[record.functionName, record.dueAt]]);
      else this.#pruner.finished(1, request.now);
      return { outcome: 'stopped', record };
    }
    const record = await this.#get(request.requestId);
    if (!record) return { outcome: 'notFound' };
    return { outcome: record.status === 'Stopping' ? 'stopping' : 'final', record };
  }

  async #appendLogs(items: readonly LogAppend[]): Promise<void> {
    // An item with nothing to write changes nothing.
    let rest = items.filter((item) => item.lines.length > 0 || (item.dropped ?? 0) > 0);
    // One statement writes a log once: a second item for the same invocation goes in a later
    // statement, in order.
    while (rest.length) {
      const seen = new Set<string>();
      const now: LogAppend[] = [];
      const later: LogAppend[] = [];
      for (const item of rest) {
        if (seen.has(item.requestId)) later.push(item);
        else {
          seen.add(item.requestId);
          now.push(item);
        }
      }
      const over = await this.#query<{ request_id: string }>('appendLogs', 'append-logs', [appendLogsParam(now)]);
      // Logs another process appended to while this statement waited for them (rare) may keep
      // lines past the bounds that its snapshot missed: trim those on a newer snapshot.
      if (over.length) {
        const ids = new Set(over.map((r) => r.request_id));
        await this.#query('appendLogs', 'trim-logs', [trimLogsParam(now.filter((item) => ids.has(item.requestId)))]);
      }
      rest = later;
    }
  }

  async #readLogs(requestId: string, after: number, limit: number): Promise<LogPage | undefined> {
    const rows = await this.#query<LogRow>('readLogs', 'read-logs', [requestId, after, limit]);
    const [first] = rows;
    if (!first) return undefined;
    const lines: LogLine[] = [];
    for (const row of rows) {
      const line = toLogLine(row);
      if (line) lines.push(line);
    }
    return { lines, dropped: Number(first.dropped) };
  }

  async #get(requestId: string): Promise<StoredInvocation | undefined> {
    const [row] = await this.#query<RecordRow>('get', 'get', [requestId]);
    return row ? toRecord(row) : undefined;
  }

  async #list(query: ListQuery): Promise<ListPage> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    // One row more than asked tells whether there is a next page.
    const rows = await this.#query<RecordRow>('list', 'list', [
      query.functionName ?? null,
      query.statuses ? [...query.statuses] : null,
      query.since ?? null,
      query.until ?? null,
      after?.createdAt ?? null,
      after?.requestId ?? null,
      query.limit + 1,
      query.invocationIdPrefix ?? null,
    ]);
    const items = rows.slice(0, query.limit).map(toRecord);
    const last = items[items.length - 1];
    return { items, ...(rows.length > query.limit && last ? { nextCursor: encodeCursor(last) } : {}) };
  }

  async #stats(functionNames?: readonly string[]): Promise<QueueStats> {
    return toQueueStats(await this.#query<StatsRow>('stats', 'stats', [functionNames ? [...functionNames] : null]));
  }

  async #prune(now: number, operation: string): Promise<number> {
    const [row] = await this.#query<{ removed: number }>(operation, 'prune', [now - this.#maxAgeMs, this.#maxCount, now - ACTIVITY_RETENTION_MS]);
    return row?.removed ?? 0;
  }

  subscribe(listener: (signal: StoreSignal) => void): () => void {
    if (this.#closed) throw storeClosedError(this.name, 'subscribe');
    return this.#signals.subscribe(listener);
  }

  onError(handler: (error: StoreError, during: StoreBackgroundTask) => void): () => void {
    if (this.#closed) throw storeClosedError(this.name, 'onError');
    return this.#signals.onError(handler);
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      if (this.#active > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
      await this.#pruner.stop();
      await this.#planner.stop();
      await this.#signals.close();
      this.#ready = undefined;
      const pool = await this.#pool?.catch(() => undefined);
      this.#pool = undefined;
      // Nothing is left to do with a pool that fails to end (its server is gone).
      if (pool) await pool.end().catch(() => {});
    })();
    return this.#closed;
  }
}

/** The rows of a claim's answer that took an invocation (with nothing claimed, one row says so). */
function claimedRows(rows: readonly ClaimRow[]): number {
  let n = 0;
  for (const row of rows) if (row.kind !== null) n++;
  return n;
}
