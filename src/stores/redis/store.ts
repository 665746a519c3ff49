/**
 * The Redis store. Each state change is one Lua script per function (scripts/*.lua), sent for
 * all functions of a call in one pipeline; claims live in claims.ts, reads in queries.ts.
 *
 * Every operation goes through `#op`: it refuses calls after close() and turns whatever went
 * wrong into a StoreError (faults.ts). Every round trip goes through the Link, which bounds it.
 * Retention and wake-ups run off the hot path; their failures go to onError (the SignalHub).
 */
import { nanoid } from 'nanoid';
import { isFinalStatus } from '../../types.js';
import { Fifo } from '../fifo.js';
import { RetentionTrigger } from '../retention.js';
import { SignalHub, storeClosedError } from '../signal-hub.js';
import { ACTIVITY_RETENTION_MS, RETENTION_DEFAULTS } from '../contract.js';
import { pruneActivity, readActivity, recordActivity } from './activity.js';
import { Claims, functionOfToken } from './claims.js';
import { decodeRecord, settlementArgs, toFields, type FlatFields } from './codec.js';
import { endpoint, type Where } from './connect.js';
import { Faults } from './faults.js';
import { Keys } from './keys.js';
import { Locator } from './locate.js';
import { Link } from './link.js';
import type { ParsedRedisStoreOptions } from './options.js';
import { announce, liveWorkers, withdraw } from './presence.js';
import { appendLogs, readLogs } from './logs.js';
import { listInvocations, pruneFinished, queueStats, type Retention } from './queries.js';
import type { Step } from './scripts.js';
import { Signals } from './signals.js';
import { InvalidArgumentError, type StoreError } from '../../errors.js';
import type {
  ActivityEntry,
  ActivityQuery,
  ClaimRequest,
  ClaimResult,
  EnqueueOutcome,
  EnqueueResult,
  HeartbeatRequest,
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

export const DEFAULT_URL = 'redis://127.0.0.1:6379';

/** Items per enqueue script call: keeps one script from blocking the server for long. */
const ENQUEUE_CHUNK = 500;
/** Functions of invocations claimed here remembered for their logs (the oldest are forgotten first). */
const CLAIMED_FUNCTIONS_MAX = 10_000;
/** A store adds a function it enqueues for to the registry again after this long (store time). */
const REGISTRY_REFRESH_MS = 60_000;
/** Background retention passes drop old activity at most this often (store time); explicit ones always. */
const ACTIVITY_PRUNE_INTERVAL_MS = 60_000;

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  items.forEach((item, i) => {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  });
  return groups;
}

/** Adds a `due` signal for `functionName`, keeping the earliest time per function. */
function addDue(due: Map<string, number>, functionName: string, at: number): void {
  const known = due.get(functionName);
  if (known === undefined || at < known) due.set(functionName, at);
}

/** True when a settlement written as given leaves the invocation finished with nothing owed. */
function finishes(s: Settlement): boolean {
  return isFinalStatus(s.status) && !s.keepLease && s.delivery?.status !== 'Pending';
}

export class RedisStore implements Store {
  readonly name = 'redis';
  readonly #keys: Keys;
  readonly #retention: Retention;
  readonly #faults: Faults;
  readonly #link: Link;
  readonly #hub = new SignalHub('redis');
  readonly #signals: Signals;
  /** When to run a retention pass (finished invocations here, and store time). */
  readonly #trigger: RetentionTrigger;
  /** The retention pass running in the background, if any. */
  #pass: Promise<void> | undefined;
  /** The end of the last retention pass queued (background or explicit). */
  #passes: Promise<void> = Promise.resolve();
  /** The latest `now` an invoker passed (settlements carry none): store time for retention. */
  #lastNow: number | undefined;
  #closed = false;
  readonly #claims: Claims;
  /** Functions this store claimed for: woken when signals may have been lost. */
  readonly #served = new Set<string>();
  /**
   * requestId -> function of the invocations claimed here lately: their workers' logs then need
   * no lookup of the function. Never stale: an invocation's function does not change.
   */
  readonly #claimedFunctions = new Map<string, string>();
  /** The keys of #claimedFunctions, oldest first: the next to forget. */
  readonly #claimedOrder = new Fifo<string>();
  /**
   * requestId -> settlements of it sent and not yet answered. Redis runs one connection's
   * commands in order, so a claim sent after them need not name those attempts as ended
   * (ClaimRequest.ended): their settlements run first. Leaving one out only ever counts more as
   * running, never fewer (a settlement that lost its lease leaves the attempt counted, rightly).
   */
  readonly #settlesSent = new Map<string, number>();
  /** Store time of the last retention pass that dropped old activity. */
  #activityPrunedAt = -Infinity;
  /** Functions this store added to the registry: on which connection (Link.generation), when (store time). */
  readonly #registry = new Map<string, { readonly generation: number; readonly at: number }>();
  readonly #locator: Locator;

  constructor(o: ParsedRedisStoreOptions) {
    const where: Where = o.client ? { client: o.client } : o.cluster ? { cluster: o.cluster } : { url: o.url ?? DEFAULT_URL };
    const ends = endpoint(where, o.prefix, o.operationTimeoutMs);
    this.#keys = new Keys(o.prefix);
    const maxCount = o.retention?.maxCount ?? RETENTION_DEFAULTS.maxCount;
    this.#retention = { maxAgeMs: (o.retention?.maxAgeSeconds ?? RETENTION_DEFAULTS.maxAgeSeconds) * 1000, maxCount };
    this.#trigger = new RetentionTrigger(maxCount);
    this.#faults = new Faults(where);
    this.#link = new Link(ends, o.operationTimeoutMs, { replicas: o.replicas, timeoutMs: o.replicaTimeoutMs });
    this.#claims = new Claims(this.#link, this.#keys);
    this.#locator = new Locator(this.#link, this.#keys);
    this.#signals = new Signals({
      hub: this.#hub,
      channel: this.#keys.channel,
      origin: nanoid(),
      endpoint: ends,
      toStoreError: (error, operation) => this.#faults.toStoreError(error, operation),
      onResubscribed: () => this.#wakeServed(),
    });
  }

  /**
   * Runs an operation: refused after close(), and failing only with a StoreError (or, for a bad
   * argument such as a foreign cursor, the InvalidArgumentError the caller can fix).
   */
  async #op<T>(operation: string, body: () => Promise<T>): Promise<T> {
    if (this.#closed) throw storeClosedError(this.name, operation);
    try {
      return await body();
    } catch (error) {
      throw error instanceof InvalidArgumentError ? error : this.#faults.toStoreError(error, operation);
    }
  }

  enqueue(items: readonly NewInvocation[]): Promise<EnqueueResult[]> {
    return this.#op('enqueue', () => this.#enqueue(items));
  }

  claim(request: ClaimRequest): Promise<ClaimResult> {
    return this.#op('claim', () => this.#claim(request));
  }

  settle(items: readonly Settlement[]): Promise<SettleOutcome[]> {
    return this.#op('settle', () => this.#settle(items));
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
    return this.#op('findByInvocationId', () => this.#findByInvocationId(functionName, invocationId));
  }

  appendLogs(items: readonly LogAppend[]): Promise<void> {
    return this.#op('appendLogs', () => this.#appendLogs(items));
  }

  readLogs(requestId: string, after: number, limit: number): Promise<LogPage | undefined> {
    return this.#op('readLogs', () => this.#readLogs(requestId, after, limit));
  }

  recordActivity(entries: readonly ActivityEntry[]): Promise<void> {
    return this.#op('recordActivity', () => recordActivity(this.#link, this.#keys, entries));
  }

  activity(query: ActivityQuery): Promise<ActivityEntry[]> {
    return this.#op('activity', () => readActivity(this.#link, this.#keys, query));
  }

  list(query: ListQuery): Promise<ListPage> {
    return this.#op('list', () => listInvocations(this.#link, this.#keys, query));
  }

  stats(functionNames?: readonly string[]): Promise<QueueStats> {
    return this.#op('stats', () => queueStats(this.#link, this.#keys, functionNames));
  }

  prune(now: number): Promise<number> {
    return this.#op('prune', () => this.#prune(now, true));
  }

  announce(presence: WorkerPresence): Promise<void> {
    return this.#op('announce', () => announce(this.#link, this.#keys, presence));
  }

  withdraw(workerId: string): Promise<void> {
    return this.#op('withdraw', () => withdraw(this.#link, this.#keys, workerId));
  }

  workers(now: number): Promise<WorkerPresence[]> {
    return this.#op('workers', () => liveWorkers(this.#link, this.#keys, now));
  }

  subscribe(listener: (signal: StoreSignal) => void): () => void {
    if (this.#closed) throw storeClosedError(this.name, 'subscribe');
    return this.#signals.subscribe(listener);
  }

  onError(handler: (error: StoreError, during: StoreBackgroundTask) => void): () => void {
    if (this.#closed) throw storeClosedError(this.name, 'onError');
    return this.#hub.onError(handler);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pass; // ends early: it checks #closed between chunks
    await this.#signals.close();
    await this.#link.close();
    this.#hub.clear();
  }

  async #enqueue(items: readonly NewInvocation[]): Promise<EnqueueResult[]> {
    if (items.length === 0) return [];
    const keys = this.#keys;
    // One script call per function (per chunk), within its hash tag: nothing global per
    // invocation. The registry of functions is written in the same round trip, before the
    // records, the first time this store enqueues for a function (see #unregistered).
    const steps: Step[] = [];
    const registering = this.#unregistered(items);
    if (registering.length) steps.push({ command: 'sadd', args: [keys.functions, ...registering] });
    const calls: number[][] = [];
    for (const [fn, indexes] of groupBy(items, (i) => i.functionName)) {
      for (let start = 0; start < indexes.length; start += ENQUEUE_CHUNK) {
        const chunk = indexes.slice(start, start + ENQUEUE_CHUNK);
        const scriptKeys = keys.index(fn);
        const idemKeys: string[] = [];
        const args: string[] = [];
        for (const i of chunk) {
          const item = items[i]!;
          scriptKeys.push(keys.record(fn, item.requestId));
          if (item.invocationId) idemKeys.push(keys.idempotency(fn, item.invocationId));
          // No detail: the script writes the plain Enqueued event itself.
          const event = item.detail === undefined
            ? ''
            : JSON.stringify({ at: item.createdAt, status: 'Enqueued', attempt: 0, detail: item.detail });
          args.push(item.requestId, String(item.createdAt), String(item.scheduledAt), String(item.hops),
            JSON.stringify(item.payload), event, item.invocationId ?? '', item.payloadKey ?? '',
            item.rerunOf ?? '', item.traceContext ?? '', item.groupKey === undefined ? '' : `=${item.groupKey}`);
        }
        for (const key of idemKeys) scriptKeys.push(key);
        scriptKeys.push(keys.invocationIds(fn));
        const { channel, head } = this.#signals.dueMessage(fn);
        args.push(channel, head);
        steps.push({ script: 'enqueue', keys: scriptKeys, args });
        calls.push(chunk);
      }
    }
    const replies = await this.#link.run(steps, true);
    this.#registered(registering, this.#link.generation, items[0]!.createdAt);
    const results: EnqueueResult[] = new Array<EnqueueResult>(items.length);
    const due = new Map<string, number>();
    let failure: string | undefined;
    const first = registering.length ? 1 : 0;
    calls.forEach((chunk, c) => {
      const reply = replies[first + c] as string[];
      chunk.forEach((i, j) => {
        const outcome = reply[2 * j] as EnqueueOutcome;
        results[i] = { requestId: reply[2 * j + 1]!, outcome };
        const item = items[i]!;
        if (outcome !== 'created') return;
        addDue(due, item.functionName, item.scheduledAt);
        if (item.scheduledAt <= item.createdAt) this.#claims.enqueued(item.functionName, item.requestId, item.scheduledAt);
      });
      failure ||= reply[2 * chunk.length] || undefined;
    });
    // The scripts published the due signals to the other processes.
    this.#signals.published([...due].map(([functionName, at]) => ({ type: 'due', functionName, at })), failure);
    return results;
  }

  /**
   * The functions of `items` to add to the registry (`{prefix}:fns`, which get, list, stats and
   * retention read): those this store has not added yet on the current connection, or not for a
   * minute of store time. SADD is idempotent; asking again now and then restores a registry lost
   * with the server's data while this store kept running.
   */
  #unregistered(items: readonly NewInvocation[]): string[] {
    const names: string[] = [];
    const now = items[0]!.createdAt;
    for (const item of items) {
      const fn = item.functionName;
      const known = this.#registry.get(fn);
      if (names.includes(fn) || (known && known.generation === this.#link.generation && now - known.at < REGISTRY_REFRESH_MS)) continue;
      names.push(fn);
    }
    return names;
  }

  #registered(names: readonly string[], generation: number, at: number): void {
    for (const fn of names) this.#registry.set(fn, { generation, at });
  }

  async #claim(request: ClaimRequest): Promise<ClaimResult> {
    this.#lastNow = request.now;
    this.#maybePrune(request.now);
    for (const slot of request.slots) this.#served.add(slot.functionName);
    const result = await this.#claims.claim(this.#withoutSent(request));
    for (const { kind, record } of result.items) if (kind === 'run') this.#rememberFunction(record.requestId, record.functionName);
    return result;
  }

  /** `request` naming as ended only the attempts whose settlements were not sent before it (#settlesSent). */
  #withoutSent(request: ClaimRequest): ClaimRequest {
    const ended = request.ended;
    if (!ended?.length || this.#settlesSent.size === 0) return request;
    return { ...request, ended: ended.filter((e) => !this.#settlesSent.has(e.requestId)) };
  }

  #rememberFunction(requestId: string, functionName: string): void {
    const known = this.#claimedFunctions;
    if (known.has(requestId)) return;
    known.set(requestId, functionName);
    this.#claimedOrder.push(requestId);
    // The oldest comes from a queue of its own: a Map's first key, once many keys before it were
    // deleted, is found only by stepping over their holes (about 8 us a call at 10,000 entries).
    if (known.size > CLAIMED_FUNCTIONS_MAX) known.delete(this.#claimedOrder.shift()!);
  }

  async #settle(items: readonly Settlement[]): Promise<SettleOutcome[]> {
    if (items.length === 0) return [];
    // Written one turn later: the claim a worker makes as its slots free up (on that turn) goes
    // first, so Redis answers it before running these, and the worker starts the next batch
    // while Redis settles the last one. That claim does not count these attempts as running
    // (ClaimRequest.ended), so a limited function's freed slots are not held back meanwhile.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const fns = await this.#functionsOf(items);
    const outcomes: SettleOutcome[] = new Array<SettleOutcome>(items.length).fill('stale');
    const groups = groupKnown(items, fns);
    const steps: Step[] = [];
    const order: [string, number[]][] = [...groups];
    for (const [fn, indexes] of order) {
      steps.push({
        script: 'settle',
        keys: [...this.#keys.index(fn), this.#keys.held(fn), ...indexes.map((i) => this.#keys.record(fn, items[i]!.requestId))],
        args: indexes.flatMap((i) => settlementArgs(items[i]!)),
      });
    }
    const sent = order.flatMap(([, indexes]) => indexes.map((i) => items[i]!.requestId));
    for (const rid of sent) this.#settlesSent.set(rid, (this.#settlesSent.get(rid) ?? 0) + 1);
    let replies: unknown[];
    try {
      replies = await this.#link.run(steps, true);
    } finally {
      for (const rid of sent) {
        const left = this.#settlesSent.get(rid)! - 1;
        if (left === 0) this.#settlesSent.delete(rid);
        else this.#settlesSent.set(rid, left);
      }
    }
    const due = new Map<string, number>();
    const freed = new Map<string, number>();
    let finished = 0;
    order.forEach(([fn, indexes], g) => {
      const reply = replies[g] as string[];
      // A limited function's running slot was freed while a claim waited for one: workers held
      // back for it claim again (also when the settlement made the work due later).
      const wake = reply[2 * indexes.length] === '1';
      indexes.forEach((i, j) => {
        const outcome = reply[2 * j] as SettleOutcome;
        outcomes[i] = outcome;
        if (outcome !== 'ok') return;
        const s = items[i]!;
        if (finishes(s)) finished++;
        const at = reply[2 * j + 1]!;
        if (at !== '') addDue(due, fn, Number(at));
        if (wake && s.wake) addDue(freed, fn, s.events[0]?.at ?? 0);
      });
    });
    this.#signalDue(due);
    // A turn later: a claim sent before this settle (it went first, see above) saw the slot taken
    // and is held back; its reply, read with this one, must reach the worker first, or the
    // worker would take the wake-up before the hold and wait.
    if (freed.size) setImmediate(() => this.#signalDue(freed));
    if (finished > 0) {
      this.#trigger.finished(finished);
      this.#maybePrune(this.#lastNow);
    }
    return outcomes;
  }

  async #heartbeat(request: HeartbeatRequest): Promise<HeartbeatResult> {
    const lost: string[] = [];
    const stopping: string[] = [];
    if (request.leases.length === 0) return { lost, stopping };
    this.#lastNow = request.now;
    const { leases } = request;
    const fns = await this.#functionsOf(leases);
    const groups = groupKnown(leases, fns);
    leases.forEach((lease, i) => {
      if (fns[i] === undefined) lost.push(lease.requestId);
    });
    const order = [...groups];
    const steps: Step[] = order.map(([fn, indexes]) => ({
      script: 'heartbeat',
      keys: [...this.#keys.index(fn), ...indexes.map((i) => this.#keys.record(fn, leases[i]!.requestId))],
      args: [request.now + request.leaseMs, ...indexes.flatMap((i) => [leases[i]!.requestId, leases[i]!.leaseToken])],
    }));
    const replies = await this.#link.run(steps);
    order.forEach(([, indexes], g) => {
      const reply = replies[g] as string[];
      indexes.forEach((i, j) => {
        if (reply[j] === 'lost') lost.push(leases[i]!.requestId);
        else if (reply[j] === 'stopping') stopping.push(leases[i]!.requestId);
      });
    });
    return { lost, stopping };
  }

  async #requestStop(request: StopRequest): Promise<StopResult> {
    const keys = this.#keys;
    // The requestId alone does not name the record key: one extra read finds its function.
    const fn = await this.#functionOf(request.requestId);
    if (fn === undefined) return { outcome: 'notFound' };
    const [reply] = await this.#link.run([{
      script: 'stop',
      keys: [...keys.index(fn), keys.record(fn, request.requestId)],
      args: [request.requestId, request.now, request.deliverOnFailure ? '1' : ''],
    }], true);
    const [outcome, fields] = reply as [StopResult['outcome'], FlatFields];
    const record = decodeRecord(fn, toFields(fields));
    if (!record) return { outcome: 'notFound' };
    if (outcome === 'stopping') this.#signals.publish(this.#link, [{ type: 'stop', requestId: request.requestId }]);
    else if (outcome === 'stopped') {
      if (record.dueAt !== undefined) this.#signalDue(new Map([[fn, record.dueAt]]));
      else this.#trigger.finished(1);
    }
    return { outcome, record };
  }

  #get(requestId: string): Promise<StoredInvocation | undefined> {
    return this.#locator.record(requestId);
  }

  async #findByInvocationId(functionName: string, invocationId: string): Promise<StoredInvocation | undefined> {
    const [rid] = await this.#link.run([{ command: 'hget', args: [this.#keys.idempotency(functionName, invocationId), 'rid'] }]);
    if (typeof rid !== 'string') return undefined;
    const [fields] = await this.#link.run([{ command: 'hgetall', args: [this.#keys.record(functionName, rid)] }]);
    return decodeRecord(functionName, new Map(Object.entries(fields as Record<string, string>)));
  }

  async #appendLogs(items: readonly LogAppend[]): Promise<void> {
    if (items.length === 0) return;
    const fns = items.map((item) => this.#claimedFunctions.get(item.requestId));
    const unknown = [...new Set(items.flatMap((item, i) => (fns[i] === undefined ? [item.requestId] : [])))];
    if (unknown.length) {
      const located = await this.#locator.locate(unknown);
      const found = new Map(unknown.map((rid, j) => [rid, located[j]]));
      items.forEach((item, i) => (fns[i] ??= found.get(item.requestId)));
    }
    await appendLogs(this.#link, this.#keys, items, fns);
  }

  async #readLogs(requestId: string, after: number, limit: number): Promise<LogPage | undefined> {
    const fn = this.#claimedFunctions.get(requestId) ?? (await this.#functionOf(requestId));
    if (fn === undefined) return undefined;
    return readLogs(this.#link, this.#keys, fn, requestId, after, limit);
  }

  /**
   * Finished invocations past retention (with their logs), lapsed worker presences, and old
   * activity (always in an explicit pass, at most once a minute of store time otherwise). One
   * pass at a time in this store: an explicit prune waits for a background pass rather than
   * counting the same records.
   */
  #prune(now: number, explicit = false): Promise<number> {
    const pass = this.#passes.then(async () => {
      const removed = await pruneFinished(this.#link, this.#keys, this.#retention, now, () => this.#closed);
      await liveWorkers(this.#link, this.#keys, now);
      if (!this.#closed && (explicit || now - this.#activityPrunedAt >= ACTIVITY_PRUNE_INTERVAL_MS)) {
        await pruneActivity(this.#link, this.#keys, now - ACTIVITY_RETENTION_MS);
        this.#activityPrunedAt = now;
      }
      return removed;
    });
    // The queue only orders passes: each pass's failure goes to its own caller.
    this.#passes = pass.then(() => undefined, () => undefined);
    return pass;
  }

  /**
   * Retention as the store goes (retention.ts says when), in the background: the write that
   * triggered it does not wait. A failed pass is reported to onError and tried again when next due.
   */
  #maybePrune(now: number | undefined): void {
    if (now === undefined || this.#pass || this.#closed || !this.#trigger.due(now)) return;
    this.#trigger.ran(now);
    this.#pass = this.#prune(now)
      .then(
        () => undefined,
        (error: unknown) => this.#hub.report(this.#faults.toStoreError(error, 'prune'), 'prune'),
      )
      .finally(() => {
        this.#pass = undefined;
        // Invocations finished during the pass may make the next one due already.
        this.#maybePrune(this.#lastNow);
      });
  }

  /** The subscriber is back: signals published meanwhile were lost, so wake every function here. */
  #wakeServed(): void {
    if (this.#closed) return;
    const at = this.#lastNow ?? 0;
    for (const functionName of this.#served) this.#hub.emit({ type: 'due', functionName, at });
  }

  async #functionOf(requestId: string): Promise<string | undefined> {
    return (await this.#locator.locate([requestId]))[0];
  }

  /** The function of each lease (from its token, else looked up). */
  async #functionsOf(leases: readonly { requestId: string; leaseToken: string }[]): Promise<(string | undefined)[]> {
    const fns = leases.map((l) => functionOfToken(l.leaseToken));
    const unknown = fns.flatMap((fn, i) => (fn === undefined ? [i] : []));
    if (unknown.length) {
      const found = await this.#locator.locate(unknown.map((i) => leases[i]!.requestId));
      unknown.forEach((i, j) => (fns[i] = found[j]));
    }
    return fns;
  }

  #signalDue(due: Map<string, number>): void {
    if (due.size === 0) return;
    const signals: StoreSignal[] = [];
    for (const [functionName, at] of due) signals.push({ type: 'due', functionName, at });
    this.#signals.publish(this.#link, signals);
  }
}

/** Indexes of `items` by their known function (unknown ones are left out). */
function groupKnown<T>(items: readonly T[], fns: readonly (string | undefined)[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  items.forEach((_item, i) => {
    const fn = fns[i];
    if (fn === undefined) return;
    const group = groups.get(fn);
    if (group) group.push(i);
    else groups.set(fn, [i]);
  });
  return groups;
}
