/**
 * The in-memory store: for unit tests and for single-process apps that can lose pending work
 * on exit. Values are kept by reference (payloads are not copied), so do not mutate a payload
 * after passing it to invokeAsync.
 */
import { z } from 'zod';
import { parseOptions, retentionSchema } from '../config.js';
import { Fifo } from './fifo.js';
import { MinHeap } from './min-heap.js';
import { decodeCursor, encodeCursor, listsBefore } from './cursor.js';
import {
  applyClaim,
  applySettlement,
  applyStop,
  claimKindOf,
  copyRecord,
  createRecord,
  isPrunable,
  leaveWorkIndex,
  type MutableInvocation,
} from './record-rules.js';
import {
  RETENTION_DEFAULTS,
  type Claimed,
  type ClaimRequest,
  type ClaimResult,
  type EnqueueResult,
  type HeartbeatRequest,
  type ImmediateStoreOps,
  type HeartbeatResult,
  type ListPage,
  type ListQuery,
  type NewInvocation,
  type QueueStats,
  type RetentionOptions,
  type SettleOutcome,
  type Settlement,
  type StopRequest,
  type StopResult,
  type Store,
  type StoreBackgroundTask,
  type StoreSignal,
  type StoredInvocation,
  type WorkerPresence,
} from './contract.js';
import type { StoreError } from '../errors.js';
import { SignalHub, storeClosedError } from './signal-hub.js';

export interface MemoryStoreOptions {
  /**
   * How long and how many finished invocations are kept.
   * @default { maxAgeSeconds: 604800, maxCount: 10000 } (fewer than the durable stores: it is all heap)
   */
  readonly retention?: RetentionOptions;
}

/** Finished invocations the memory store keeps by default. */
const MEMORY_MAX_FINISHED = 10_000;

interface Entry extends MutableInvocation {
  payloadKey: string | undefined;
  /** Bumped whenever dueAt changes, so stale heap entries can be recognised. */
  version: number;
}

interface DueEntry {
  at: number;
  seq: number;
  entry: Entry;
  version: number;
}

interface FunctionIndex {
  /**
   * Entries appended in non-decreasing `at` order (most work: due now, time only moves on):
   * O(1) in and out. Anything earlier than the tail goes to `due`, the heap.
   */
  readonly fifo: Fifo<DueEntry>;
  readonly due: MinHeap<DueEntry>;
  /** Leased invocations of this function. */
  readonly leased: Map<string, Entry>;
  /** A lower bound on the earliest lease expiry in `leased`; rescanned only once reached. */
  minLeaseAt: number;
}

const optionsSchema = z.strictObject({ retention: retentionSchema.optional() }, { error: 'an object { retention? }' });

export function memoryStore(options: MemoryStoreOptions = {}): Store {
  return new MemoryStore(parseOptions(optionsSchema, options, 'memoryStore options'));
}

class MemoryStore implements Store {
  readonly name = 'memory';
  readonly #records = new Map<string, Entry>();
  readonly #idempotency = new Map<string, string>();
  readonly #functions = new Map<string, FunctionIndex>();
  readonly #hub = new SignalHub('memory');
  readonly #workers = new Map<string, WorkerPresence>();
  /** Finished invocations in the order they finished: retention pops from the front. */
  readonly #finished = new Fifo<{ requestId: string; endedAt: number }>();
  #seq = 0;
  /** Lease tokens only need to be unique within this process: a counter is enough and cheap. */
  #tokens = 0;
  readonly #maxAgeMs: number;
  /** Retention here is exact: by count as records finish, by age on every claim (O(1) when nothing is due to go). */
  readonly #maxCount: number;
  #closed = false;

  constructor(options: MemoryStoreOptions) {
    this.#maxAgeMs = (options.retention?.maxAgeSeconds ?? RETENTION_DEFAULTS.maxAgeSeconds) * 1000;
    this.#maxCount = options.retention?.maxCount ?? MEMORY_MAX_FINISHED;
  }

  readonly immediate: ImmediateStoreOps = {
    enqueue: (items) => this.#enqueue(items),
    claim: (request) => this.#claim(request),
    stats: (functionNames) => this.#stats(functionNames),
    settle: (items) => this.#settle(items),
  };

  /** Runs `op` unless the store is closed; its throw becomes the returned promise's rejection. */
  #async<T>(operation: string, op: () => T): Promise<T> {
    try {
      this.#assertOpen(operation);
      return Promise.resolve(op());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw storeClosedError('memory', operation);
  }

  enqueue(items: readonly NewInvocation[]): Promise<EnqueueResult[]> {
    return this.#async('enqueue', () => this.#enqueue(items));
  }

  #enqueue(items: readonly NewInvocation[]): EnqueueResult[] {
    this.#assertOpen('enqueue');
    if (items.length === 1) return [this.#enqueueOne(items[0]!, true)];
    const results: EnqueueResult[] = [];
    // One signal per function per call, for its earliest new due time.
    const earliest = new Map<string, number>();
    for (const item of items) {
      const result = this.#enqueueOne(item, false);
      results.push(result);
      if (result.outcome !== 'created') continue;
      const at = earliest.get(item.functionName);
      if (at === undefined || item.scheduledAt < at) earliest.set(item.functionName, item.scheduledAt);
    }
    if (this.#hub.size) for (const [functionName, at] of earliest) this.#hub.emit({ type: 'due', functionName, at });
    return results;
  }

  #enqueueOne(item: NewInvocation, signal: boolean): EnqueueResult {
    if (item.invocationId !== undefined) {
      const key = `${item.functionName}\u0000${item.invocationId}`;
      const existingId = this.#idempotency.get(key);
      const existing = existingId === undefined ? undefined : this.#records.get(existingId);
      if (existing) {
        return { requestId: existing.requestId, outcome: existing.payloadKey === item.payloadKey ? 'duplicate' : 'conflict' };
      }
      this.#idempotency.set(key, item.requestId);
    }
    const entry = newEntry(item);
    this.#records.set(entry.requestId, entry);
    this.#index(entry);
    if (signal && this.#hub.size) this.#hub.emit({ type: 'due', functionName: item.functionName, at: item.scheduledAt });
    return { requestId: entry.requestId, outcome: 'created' };
  }

  claim(request: ClaimRequest): Promise<ClaimResult> {
    return this.#async('claim', () => this.#claim(request));
  }

  #claim(request: ClaimRequest): ClaimResult {
    this.#assertOpen('claim');
    const { now, leaseMs } = request;
    const items: Claimed[] = [];
    let nextDueAt: number | undefined;
    for (const slot of request.slots) {
      const fn = this.#functions.get(slot.functionName);
      if (!fn) continue;
      const limit = Math.min(slot.limit, request.limit - items.length);
      let taken = 0;
      if (now >= fn.minLeaseAt) taken += this.#reclaimExpired(fn, slot, limit, now, leaseMs, items);
      while (taken < limit) {
        const top = this.#peekValid(fn);
        if (top === undefined || top.at > now) break;
        this.#popFront(fn, top);
        const entry = top.entry;
        if (top.version !== entry.version || entry.leaseToken !== undefined) continue;
        const kind = claimKindOf(entry, now, slot);
        if (!kind) {
          this.#dropFromWorkIndex(entry);
          continue;
        }
        const token = `L${++this.#tokens}`;
        applyClaim(entry, kind, now, leaseMs, token);
        this.#index(entry);
        items.push({ kind, leaseToken: token, record: entry });
        taken++;
      }
      const next = this.#peekValid(fn)?.at;
      const candidate = Math.min(next ?? Infinity, fn.leased.size ? fn.minLeaseAt : Infinity);
      if (candidate !== Infinity && (nextDueAt === undefined || candidate < nextDueAt)) nextDueAt = candidate;
    }
    this.#pruneByAge(now);
    return { items, nextDueAt };
  }

  settle(items: readonly Settlement[]): Promise<SettleOutcome[]> {
    return this.#async('settle', () => this.#settle(items));
  }

  #settle(items: readonly Settlement[]): SettleOutcome[] {
    this.#assertOpen('settle');
    const outcomes: SettleOutcome[] = [];
    for (const s of items) {
      const entry = this.#records.get(s.requestId);
      const outcome = applySettlement(entry, s);
      outcomes.push(outcome);
      if (outcome !== 'ok' || !entry) continue;
      entry.version++;
      this.#index(entry);
      if (entry.leaseToken === undefined && entry.dueAt !== undefined) this.#emitDue(entry);
      if (isPrunable(entry)) this.#finish(entry);
    }
    return outcomes;
  }

  heartbeat(request: HeartbeatRequest): Promise<HeartbeatResult> {
    return this.#async('heartbeat', () => this.#heartbeat(request));
  }

  #heartbeat(request: HeartbeatRequest): HeartbeatResult {
    const lost: string[] = [];
    const stopping: string[] = [];
    for (const lease of request.leases) {
      const entry = this.#records.get(lease.requestId);
      if (!entry || entry.leaseToken !== lease.leaseToken) {
        lost.push(lease.requestId);
        continue;
      }
      entry.dueAt = request.now + request.leaseMs;
      entry.version++;
      if (entry.status === 'Stopping') stopping.push(lease.requestId);
    }
    return { lost, stopping };
  }

  requestStop(request: StopRequest): Promise<StopResult> {
    return this.#async('requestStop', () => this.#requestStop(request));
  }

  #requestStop(request: StopRequest): StopResult {
    const entry = this.#records.get(request.requestId);
    const outcome = applyStop(entry, request);
    if (entry && (outcome === 'stopped' || outcome === 'stopping')) {
      entry.version++;
      this.#index(entry);
      if (outcome === 'stopping') this.#hub.emit({ type: 'stop', requestId: entry.requestId });
      else if (entry.dueAt !== undefined) this.#emitDue(entry);
      if (isPrunable(entry)) this.#finish(entry);
    }
    return entry ? { outcome, record: copyRecord(entry) } : { outcome };
  }

  get(requestId: string): Promise<StoredInvocation | undefined> {
    return this.#async('get', () => {
      const entry = this.#records.get(requestId);
      return entry ? publicCopy(entry) : undefined;
    });
  }

  list(query: ListQuery): Promise<ListPage> {
    return this.#async('list', () => this.#list(query));
  }

  #list(query: ListQuery): ListPage {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const statuses = query.statuses ? new Set(query.statuses) : undefined;
    const matches: Entry[] = [];
    for (const entry of this.#records.values()) {
      if (query.functionName !== undefined && entry.functionName !== query.functionName) continue;
      if (statuses && !statuses.has(entry.status)) continue;
      if (query.since !== undefined && entry.createdAt < query.since) continue;
      if (query.until !== undefined && entry.createdAt >= query.until) continue;
      if (after && !listsBefore(after, entry)) continue;
      matches.push(entry);
    }
    matches.sort((a, b) => (listsBefore(a, b) ? -1 : listsBefore(b, a) ? 1 : 0));
    const page = matches.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(publicCopy),
      ...(matches.length > query.limit && last ? { nextCursor: encodeCursor(last) } : {}),
    };
  }

  stats(functionNames?: readonly string[]): Promise<QueueStats> {
    return this.#async('stats', () => this.#stats(functionNames));
  }

  #stats(functionNames?: readonly string[]): QueueStats {
    this.#assertOpen('stats');
    const wanted = functionNames ? new Set(functionNames) : undefined;
    const pending: Record<string, number> = {};
    const running: Record<string, number> = {};
    const oldestPendingAt: Record<string, number> = {};
    for (const entry of this.#records.values()) {
      const name = entry.functionName;
      if (wanted && !wanted.has(name)) continue;
      if (entry.status === 'Enqueued' || entry.status === 'Retrying') {
        pending[name] = (pending[name] ?? 0) + 1;
        if (oldestPendingAt[name] === undefined || entry.createdAt < oldestPendingAt[name]!) {
          oldestPendingAt[name] = entry.createdAt;
        }
      } else if (entry.status === 'Running' || entry.status === 'Stopping') {
        running[name] = (running[name] ?? 0) + 1;
      }
    }
    return { pending, running, oldestPendingAt };
  }

  prune(now: number): Promise<number> {
    return this.#async('prune', () => this.#pruneByAge(now) + this.#pruneByCount());
  }

  announce(presence: WorkerPresence): Promise<void> {
    return this.#async('announce', () => {
      this.#workers.set(presence.workerId, { ...presence, functions: [...presence.functions] });
    });
  }

  withdraw(workerId: string): Promise<void> {
    return this.#async('withdraw', () => {
      this.#workers.delete(workerId);
    });
  }

  workers(now: number): Promise<WorkerPresence[]> {
    return this.#async('workers', () => {
      const live: WorkerPresence[] = [];
      for (const [id, presence] of this.#workers) {
        if (presence.expiresAt <= now) this.#workers.delete(id);
        else live.push({ ...presence, functions: [...presence.functions] });
      }
      return live;
    });
  }

  subscribe(listener: (signal: StoreSignal) => void): () => void {
    this.#assertOpen('subscribe');
    const off = this.#hub.subscribe(listener);
    // Work already due was enqueued before this listener: tell it (once the caller has returned).
    queueMicrotask(() => {
      if (this.#closed) return;
      for (const [functionName, fn] of this.#functions) {
        const at = this.#peekValid(fn)?.at;
        if (at !== undefined) listener({ type: 'due', functionName, at });
      }
    });
    return off;
  }

  onError(handler: (error: StoreError, during: StoreBackgroundTask) => void): () => void {
    this.#assertOpen('onError');
    return this.#hub.onError(handler);
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#hub.clear();
    return Promise.resolve();
  }

  #fn(name: string): FunctionIndex {
    let fn = this.#functions.get(name);
    if (!fn) {
      fn = { fifo: new Fifo(), due: new MinHeap(), leased: new Map(), minLeaseAt: Infinity };
      this.#functions.set(name, fn);
    }
    return fn;
  }

  /** Puts the entry where its state says: leased, due, or nowhere. */
  #index(entry: Entry): void {
    const fn = this.#fn(entry.functionName);
    if (entry.leaseToken !== undefined) {
      fn.leased.set(entry.requestId, entry);
      if (entry.dueAt! < fn.minLeaseAt) fn.minLeaseAt = entry.dueAt!;
      return;
    }
    fn.leased.delete(entry.requestId);
    if (entry.dueAt !== undefined) {
      const due: DueEntry = { at: entry.dueAt, seq: this.#seq++, entry, version: entry.version };
      const tail = fn.fifo.last();
      if (!tail || tail.at <= due.at) fn.fifo.push(due);
      else fn.due.push(due);
    }
  }

  #reclaimExpired(fn: FunctionIndex, slot: ClaimRequest['slots'][number], limit: number, now: number, leaseMs: number, out: Claimed[]): number {
    let taken = 0;
    let min = Infinity;
    const expired: Entry[] = [];
    for (const entry of fn.leased.values()) {
      if (entry.dueAt! <= now) expired.push(entry);
      else if (entry.dueAt! < min) min = entry.dueAt!;
    }
    expired.sort((a, b) => a.dueAt! - b.dueAt!);
    for (const entry of expired) {
      if (taken >= limit) {
        min = Math.min(min, entry.dueAt!);
        continue;
      }
      const kind = claimKindOf(entry, now, slot);
      if (!kind) {
        this.#dropFromWorkIndex(entry);
        continue;
      }
      const token = `L${++this.#tokens}`;
      applyClaim(entry, kind, now, leaseMs, token);
      entry.version++;
      min = Math.min(min, entry.dueAt!);
      out.push({ kind, leaseToken: token, record: entry });
      taken++;
    }
    fn.minLeaseAt = min;
    return taken;
  }

  /**
   * A due record with nothing to do (final, nothing owed): it owes no due time, and an expired
   * lease on it is dropped, so no claim returns to it and it can be pruned.
   */
  #dropFromWorkIndex(entry: Entry): void {
    // Unleased, it was counted as finished when it was settled; leased, it finishes now.
    const counted = isPrunable(entry);
    leaveWorkIndex(entry);
    entry.version++;
    this.#functions.get(entry.functionName)?.leased.delete(entry.requestId);
    if (!counted && isPrunable(entry)) this.#finish(entry);
  }

  /** The earliest still-valid due entry of the FIFO and the heap, dropping stale ones on the way. */
  #peekValid(fn: FunctionIndex): DueEntry | undefined {
    while (fn.fifo.size > 0 && !this.#valid(fn.fifo.peek()!)) fn.fifo.shift();
    let top = fn.due.peek();
    while (top && !this.#valid(top)) {
      fn.due.pop();
      top = fn.due.peek();
    }
    const head = fn.fifo.peek();
    if (!head) return top;
    if (!top) return head;
    return top.at < head.at || (top.at === head.at && top.seq < head.seq) ? top : head;
  }

  #popFront(fn: FunctionIndex, entry: DueEntry): void {
    if (fn.fifo.peek() === entry) fn.fifo.shift();
    else fn.due.pop();
  }

  #valid(d: DueEntry): boolean {
    const e = d.entry;
    // A pruned entry has version -1, so no due entry matches it.
    return d.version === e.version && e.leaseToken === undefined && e.dueAt === d.at;
  }

  #finish(entry: Entry): void {
    this.#finished.push({ requestId: entry.requestId, endedAt: entry.endedAt ?? 0 });
    this.#pruneByCount();
  }

  #pruneByCount(): number {
    let removed = 0;
    while (this.#finished.size > this.#maxCount) removed += this.#removeOldest();
    return removed;
  }

  #pruneByAge(now: number): number {
    let removed = 0;
    const cutoff = now - this.#maxAgeMs;
    while (this.#finished.size > 0 && this.#finished.peek()!.endedAt < cutoff) removed += this.#removeOldest();
    return removed;
  }

  #removeOldest(): number {
    const { requestId } = this.#finished.shift()!;
    const entry = this.#records.get(requestId);
    if (!entry || !isPrunable(entry)) return 0;
    this.#records.delete(requestId);
    entry.version = -1;
    if (entry.invocationId !== undefined) {
      const key = `${entry.functionName}\u0000${entry.invocationId}`;
      if (this.#idempotency.get(key) === requestId) this.#idempotency.delete(key);
    }
    return 1;
  }

  #emitDue(entry: Entry): void {
    if (this.#hub.size === 0) return;
    this.#hub.emit({ type: 'due', functionName: entry.functionName, at: entry.dueAt! });
  }
}

/** createRecord's record plus the store's own fields (every entry takes the same two steps, so one shape). */
function newEntry(item: NewInvocation): Entry {
  const entry = createRecord(item) as Entry;
  entry.payloadKey = item.payloadKey;
  entry.version = 0;
  return entry;
}

function publicCopy(entry: Entry): StoredInvocation {
  const copy = copyRecord(entry) as StoredInvocation & { version?: number; payloadKey?: string };
  delete copy.version;
  delete copy.payloadKey;
  return copy;
}
