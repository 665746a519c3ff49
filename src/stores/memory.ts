/**
 * The in-memory store: for unit tests and for single-process apps that can lose pending work
 * on exit. Values are kept by reference (payloads are not copied), so do not mutate a payload
 * after passing it to invokeAsync.
 */
import { z } from 'zod';
import { parseOptions, retentionSchema } from '../config.js';
import { Fifo } from './fifo.js';
import { DueQueue, earlier, type DueEntry } from './memory-due.js';
import { StartWindow } from './limits.js';
import { ClaimGate, endedTokens, isRunning, NO_GROUP, type RunningAttempt } from './claim-gate.js';
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
  ACTIVITY_RETENTION_MS,
  RETENTION_DEFAULTS,
  type ActivityEntry,
  type ActivityQuery,
  type Claimed,
  type ClaimRequest,
  type ClaimResult,
  type ClaimSlot,
  type HeldBack,
  type EnqueueResult,
  type HeartbeatRequest,
  type ImmediateStoreOps,
  type HeartbeatResult,
  type ListPage,
  type ListQuery,
  type LogAppend,
  type LogLine,
  type LogPage,
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
import { linesToDrop, logLineBytes } from './logs.js';
import { addActivity, emptyActivity } from './activity.js';

export interface MemoryStoreOptions {
  /**
   * How long and how many finished invocations are kept.
   * @default { maxAgeSeconds: 604800, maxCount: 10000 } (fewer than the durable stores: it is all heap)
   */
  readonly retention?: RetentionOptions;
}

/** Finished invocations the memory store keeps by default. */
const MEMORY_MAX_FINISHED = 10_000;

interface MemoryLog {
  readonly lines: LogLine[];
  /** logLineBytes of each line, in the same order. */
  readonly sizes: number[];
  seq: number;
  dropped: number;
}

interface Entry extends MutableInvocation {
  payloadKey: string | undefined;
  /** Bumped whenever dueAt changes, so stale heap entries can be recognised. */
  version: number;
  /**
   * Insertion order, fixed for the record's life: equal due times go in this order, as they do
   * in the stores that break ties by row (SQLite's rowid, PostgreSQL's sequence).
   */
  order: number;
}

type Due = DueEntry<Entry>;

interface FunctionIndex {
  /** Due work without a group key. */
  readonly main: DueQueue<Entry>;
  /** Due work of each group (grouped functions: served round-robin). */
  readonly groups: Map<string, DueQueue<Entry>>;
  /** Leased invocations of this function. */
  readonly leased: Map<string, Entry>;
  /** A lower bound on the earliest lease expiry in `leased`; rescanned only once reached. */
  minLeaseAt: number;
  /** Attempts started in the last second (the `perSecond` limit). */
  readonly starts: StartWindow;
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
  /** Activity counters by `functionName \0 minute`. */
  readonly #activity = new Map<string, ReturnType<typeof emptyActivity>>();
  #activityPrunedAt = -Infinity;
  /** Execution logs by requestId; removed with their record. */
  readonly #logs = new Map<string, MemoryLog>();
  /**
   * Finished invocations in the order they finished: retention pops from the front. The entries
   * themselves (a final record's endedAt no longer changes): no object per finish, and no lookup
   * by requestId in a table of every record when one goes.
   */
  readonly #finished = new Fifo<Entry>();
  /** The next entry's insertion order. */
  #order = 0;
  /** Starts of grouped work, in order (round-robin between groups). */
  #starts = 0;
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
    const entry = newEntry(item, this.#order++);
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
    let heldBack: HeldBack[] | undefined;
    const ended = endedTokens(request);
    for (const slot of request.slots) {
      const fn = this.#functions.get(slot.functionName);
      if (!fn) continue;
      const limit = Math.min(slot.limit, request.limit - items.length);
      const gate = slot.limits ? new ClaimGate({ ...slot, limits: slot.limits }, () => runningGroups(fn.leased.values(), now, ended), fn.starts, now) : undefined;
      let held: HeldBack['reason'] | undefined;
      let taken = 0;
      // Expired leases and due work are taken in one order: oldest dueAt first.
      const expired = now >= fn.minLeaseAt ? this.#expiredLeases(fn, now) : [];
      let lapsedAt = 0;
      while (taken < limit) {
        const top = gate?.grouped ? this.#nextInGroups(fn, gate, slot, now) : this.#peekValid(fn);
        const lapsed = expired[lapsedAt];
        if (lapsed !== undefined && (top === undefined || top.at > now || lapsed.dueAt! <= top.at)) {
          lapsedAt++;
          if (this.#reclaim(lapsed, slot, now, leaseMs, items)) {
            taken++;
            gate?.recovered(lapsed);
          }
          continue;
        }
        if (top === undefined || top.at > now) break;
        const entry = top.entry;
        const kind = claimKindOf(entry, now, slot);
        // A limit holds back runs only: expiring, recovering and delivering run no handler.
        if (kind === 'run' && gate) {
          held = gate.refusal(entry);
          if (held) break;
        }
        top.queue.remove(top);
        if (!kind) {
          this.#dropFromWorkIndex(entry);
          continue;
        }
        const token = `L${++this.#tokens}`;
        applyClaim(entry, kind, now, leaseMs, token);
        this.#index(entry);
        if (kind === 'run' && gate) {
          gate.started(entry, now);
          top.queue.lastStarted = ++this.#starts;
        }
        items.push({ kind, leaseToken: token, record: entry });
        taken++;
      }
      if (!held && gate?.groupHeld) held = 'group';
      if (held) (heldBack ??= []).push(gate!.heldBack(slot.functionName, held));
      if (expired.length > 0) fn.minLeaseAt = this.#earliestLease(fn);
      const next = this.#peekValid(fn)?.at;
      const candidate = Math.min(next ?? Infinity, fn.leased.size ? fn.minLeaseAt : Infinity);
      if (candidate !== Infinity && (nextDueAt === undefined || candidate < nextDueAt)) nextDueAt = candidate;
    }
    this.#pruneByAge(now);
    return heldBack ? { items, nextDueAt, heldBack } : { items, nextDueAt };
  }

  /**
   * The next due entry of a grouped function: round-robin between its groups (the least recently
   * started first, then the earliest due), passing over groups at their cap.
   */
  #nextInGroups(fn: FunctionIndex, gate: ClaimGate, slot: ClaimSlot, now: number): Due | undefined {
    let best: Due | undefined;
    let earliest: Due | undefined;
    const consider = (group: string, queue: DueQueue<Entry>) => {
      const head = queue.peek();
      if (!head) return;
      if (!earliest || earlier(head, earliest)) earliest = head;
      if (head.at > now) return;
      // A full group's head waits, unless it is not a run (expiring work is still taken).
      if (gate.groupFull(group) && claimKindOf(head.entry, now, slot) === 'run') {
        gate.groupHeld = true;
        gate.passedOver(head.entry);
        return;
      }
      if (!best || queue.lastStarted < best.queue.lastStarted || (queue.lastStarted === best.queue.lastStarted && earlier(head, best))) best = head;
    };
    consider(NO_GROUP, fn.main);
    for (const [group, queue] of fn.groups) consider(group, queue);
    // Nothing startable is due: the earliest entry tells the caller when to look again.
    return best ?? (earliest && earliest.at > now ? earliest : undefined);
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
      // A limited function's slot freed: workers held back may claim again.
      else if (s.wake && this.#hub.size) this.#hub.emit({ type: 'due', functionName: entry.functionName, at: s.events[0]?.at ?? 0 });
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

  findByInvocationId(functionName: string, invocationId: string): Promise<StoredInvocation | undefined> {
    return this.#async('findByInvocationId', () => {
      const requestId = this.#idempotency.get(`${functionName}\u0000${invocationId}`);
      const entry = requestId === undefined ? undefined : this.#records.get(requestId);
      return entry ? publicCopy(entry) : undefined;
    });
  }

  appendLogs(items: readonly LogAppend[]): Promise<void> {
    return this.#async('appendLogs', () => {
      for (const item of items) {
        if (!this.#records.has(item.requestId)) continue;
        let log = this.#logs.get(item.requestId);
        if (!log) this.#logs.set(item.requestId, (log = { lines: [], sizes: [], seq: 0, dropped: 0 }));
        // Lines the writer dropped took their seq numbers: a reader sees the gap.
        log.seq += item.dropped ?? 0;
        log.dropped += item.dropped ?? 0;
        for (const line of item.lines) {
          log.lines.push({ ...line, seq: ++log.seq });
          log.sizes.push(logLineBytes(line));
        }
        const drop = linesToDrop(log.sizes, item.maxLines, item.maxBytes);
        if (drop > 0) {
          log.lines.splice(0, drop);
          log.sizes.splice(0, drop);
          log.dropped += drop;
        }
      }
    });
  }

  readLogs(requestId: string, after: number, limit: number): Promise<LogPage | undefined> {
    return this.#async('readLogs', () => {
      if (!this.#records.has(requestId)) return undefined;
      const log = this.#logs.get(requestId);
      if (!log) return { lines: [], dropped: 0 };
      return { lines: log.lines.filter((l) => l.seq > after).slice(0, limit), dropped: log.dropped };
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
      if (query.invocationIdPrefix !== undefined && !entry.invocationId?.startsWith(query.invocationIdPrefix)) continue;
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
    return this.#async('prune', () => {
      this.#activityPrunedAt = -Infinity; // an explicit pass drops old activity too
      return this.#pruneByAge(now) + this.#pruneByCount();
    });
  }

  recordActivity(entries: readonly ActivityEntry[]): Promise<void> {
    return this.#async('recordActivity', () => {
      for (const entry of entries) {
        const key = `${entry.functionName}\u0000${entry.minute}`;
        let kept = this.#activity.get(key);
        if (!kept) this.#activity.set(key, (kept = emptyActivity(entry.functionName, entry.minute)));
        addActivity(kept, entry);
      }
    });
  }

  activity(query: ActivityQuery): Promise<ActivityEntry[]> {
    return this.#async('activity', () =>
      [...this.#activity.values()]
        .filter((e) => e.minute >= query.since && e.minute < query.until && (query.functionName === undefined || e.functionName === query.functionName))
        .sort((a, b) => a.minute - b.minute || (a.functionName < b.functionName ? -1 : a.functionName > b.functionName ? 1 : 0))
        .map((e) => ({ ...e, finished: { ...e.finished }, wait: [...e.wait], run: [...e.run] })),
    );
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
        if (at !== undefined) this.#hub.tell(listener, { type: 'due', functionName, at });
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
      fn = { main: this.#queue(), groups: new Map(), leased: new Map(), minLeaseAt: Infinity, starts: new StartWindow() };
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
      let queue = fn.main;
      if (entry.groupKey !== undefined) {
        queue = fn.groups.get(entry.groupKey) ?? this.#queue();
        fn.groups.set(entry.groupKey, queue);
      }
      queue.push(entry.dueAt, entry.order, entry, entry.version);
    }
  }

  #queue(): DueQueue<Entry> {
    return new DueQueue<Entry>((d) => this.#valid(d));
  }

  /** Leased entries whose lease expired by `now`, oldest expiry first. */
  #expiredLeases(fn: FunctionIndex, now: number): Entry[] {
    const expired: Entry[] = [];
    for (const entry of fn.leased.values()) if (entry.dueAt! <= now) expired.push(entry);
    // Equal lease ends in insertion order, as every other ordering here (and the SQL stores).
    return expired.sort((a, b) => a.dueAt! - b.dueAt! || a.order - b.order);
  }

  /** Takes over an expired lease; false when the record owes nothing (it leaves the work index). */
  #reclaim(entry: Entry, slot: ClaimRequest['slots'][number], now: number, leaseMs: number, out: Claimed[]): boolean {
    const kind = claimKindOf(entry, now, slot);
    if (!kind) {
      this.#dropFromWorkIndex(entry);
      return false;
    }
    const token = `L${++this.#tokens}`;
    applyClaim(entry, kind, now, leaseMs, token);
    entry.version++;
    out.push({ kind, leaseToken: token, record: entry });
    return true;
  }

  #earliestLease(fn: FunctionIndex): number {
    let min = Infinity;
    for (const entry of fn.leased.values()) if (entry.dueAt! < min) min = entry.dueAt!;
    return min;
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

  /** The earliest still-valid due entry of the function, over its main queue and its groups. */
  #peekValid(fn: FunctionIndex): Due | undefined {
    let best = fn.main.peek();
    if (fn.groups.size) {
      for (const [key, queue] of fn.groups) {
        const head = queue.peek();
        if (!head) {
          if (queue.size === 0) fn.groups.delete(key);
          continue;
        }
        if (!best || earlier(head, best)) best = head;
      }
    }
    return best;
  }

  #valid(d: Due): boolean {
    const e = d.entry;
    // A pruned entry has version -1, so no due entry matches it.
    return d.version === e.version && e.leaseToken === undefined && e.dueAt === d.at;
  }

  #finish(entry: Entry): void {
    this.#finished.push(entry);
    this.#pruneByCount();
  }

  #pruneByCount(): number {
    let removed = 0;
    while (this.#finished.size > this.#maxCount) removed += this.#removeOldest();
    return removed;
  }

  #pruneByAge(now: number): number {
    // Old activity goes at most once a minute: this runs on every claim.
    if (now - this.#activityPrunedAt >= 60_000) {
      this.#activityPrunedAt = now;
      for (const [key, e] of this.#activity) if (e.minute < now - ACTIVITY_RETENTION_MS) this.#activity.delete(key);
    }
    let removed = 0;
    const cutoff = now - this.#maxAgeMs;
    while (this.#finished.size > 0 && (this.#finished.peek()!.endedAt ?? 0) < cutoff) removed += this.#removeOldest();
    return removed;
  }

  #removeOldest(): number {
    const entry = this.#finished.shift()!;
    // Pruned already (version -1), or no longer prunable: nothing to remove.
    if (entry.version === -1 || !isPrunable(entry)) return 0;
    const { requestId } = entry;
    this.#records.delete(requestId);
    this.#logs.delete(requestId);
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

function* runningGroups(leased: Iterable<Entry>, now: number, ended: ReadonlySet<string>): Iterable<RunningAttempt> {
  for (const record of leased) if (isRunning(record, now) && !ended.has(record.leaseToken!)) yield [record.groupKey ?? NO_GROUP, record.dueAt!];
}

/** createRecord's record plus the store's own fields (set in the same order on every entry, so one shape). */
function newEntry(item: NewInvocation, order: number): Entry {
  const entry = createRecord(item) as Entry;
  entry.payloadKey = item.payloadKey;
  entry.version = 0;
  entry.order = order;
  return entry;
}

function publicCopy(entry: Entry): StoredInvocation {
  const copy = copyRecord(entry) as StoredInvocation & { version?: number; payloadKey?: string; order?: number };
  delete copy.version;
  delete copy.payloadKey;
  delete copy.order;
  return copy;
}
