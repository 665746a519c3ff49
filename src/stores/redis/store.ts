/**
 * The Redis store's state changes: each is one Lua script per function (scripts/*.lua), sent
 * for all functions of a call in one pipeline. Lease tokens start with the function name, so a
 * settle or heartbeat finds the record key without asking the server first.
 */
import { nanoid } from 'nanoid';
import type { Redis } from 'ioredis';
import { decodeClaimed, decodeRecord, settlementArgs, toFields, type FlatFields } from './codec.js';
import type { Keys } from './keys.js';
import { listInvocations, pruneFinished, queueStats, type Retention } from './queries.js';
import { runSteps, type Step } from './scripts.js';
import type { Signals } from './signals.js';
import type {
  Claimed,
  ClaimKind,
  ClaimRequest,
  ClaimResult,
  EnqueueOutcome,
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

/** Separates the function name from the random part of a lease token (names cannot hold it). */
const TOKEN_SEPARATOR = '|';
/** Items per enqueue script call: keeps one script from blocking the server for long. */
const ENQUEUE_CHUNK = 500;
/** How often (in the `now` the invokers pass) claims trigger a retention pass. */
const PRUNE_EVERY_MS = 60_000;
/** Also a retention pass after this many settlements, so the count limit holds under load. */
const PRUNE_EVERY_SETTLES = 5_000;
/** Rounds a claim makes when other claimers took its candidates first. */
const MAX_CLAIM_ROUNDS = 4;
/** Due entries a claim reads beyond its quota (as many again, within these): the next one's candidates. */
const PEEK_MIN = 4;
const PEEK_MAX = 1000;
/** Candidates passed beyond a claim's quota, for ids another process claimed meanwhile. */
const CANDIDATES_SLACK = 4;
/** Ids enqueued here are added to a function's candidates up to this many. */
const CANDIDATES_MAX = 2000;

export interface RedisStoreParts {
  readonly keys: Keys;
  readonly retention: Retention;
  readonly signals: Signals;
  /** The command connection, opened on first use. */
  readonly client: () => Promise<Redis>;
  /** Closes what the store opened. */
  readonly release: () => Promise<void>;
}

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

function functionOfToken(token: string): string | undefined {
  const at = token.indexOf(TOKEN_SEPARATOR);
  return at > 0 ? token.slice(0, at) : undefined;
}

/** Adds a `due` signal for `functionName`, keeping the earliest time per function. */
function addDue(due: Map<string, number>, functionName: string, at: number): void {
  const known = due.get(functionName);
  if (known === undefined || at < known) due.set(functionName, at);
}

export class RedisStore implements Store {
  readonly name = 'redis';
  readonly #p: RedisStoreParts;
  #nextPruneAt = -Infinity;
  /** The latest `now` an invoker passed (settlements carry none); the age cutoff of a pass. */
  #lastNow: number | undefined;
  #settledSincePrune = 0;
  #background: Promise<unknown> | undefined;
  #closed = false;
  /**
   * Per function this store claims: the ids due first as the last claim saw them, plus those
   * enqueued here since. The next claim passes their record keys, so it needs no read first.
   */
  readonly #candidates = new Map<string, string[]>();

  constructor(parts: RedisStoreParts) {
    this.#p = parts;
  }

  async enqueue(items: readonly NewInvocation[]): Promise<EnqueueResult[]> {
    if (items.length === 0) return [];
    const { keys } = this.#p;
    const client = await this.#p.client();
    // Global indexes first (a separate slot, so not inside the script): an entry whose record
    // never got written is skipped by readers, while a record missing from them would be
    // invisible to get() and list().
    const steps: Step[] = [
      { command: 'hset', args: [keys.functionOf, ...items.flatMap((i) => [i.requestId, i.functionName])] },
      { command: 'zadd', args: [keys.created, ...items.flatMap((i) => [i.createdAt, i.requestId])] },
      { command: 'sadd', args: [keys.functions, ...new Set(items.map((i) => i.functionName))] },
    ];
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
            JSON.stringify(item.payload), event, item.invocationId ?? '', item.payloadKey ?? '');
        }
        for (const key of idemKeys) scriptKeys.push(key);
        steps.push({ script: 'enqueue', keys: scriptKeys, args });
        calls.push(chunk);
      }
    }
    const replies = await runSteps(client, steps);
    const results: EnqueueResult[] = new Array<EnqueueResult>(items.length);
    const unused: string[] = [];
    const due = new Map<string, number>();
    calls.forEach((chunk, c) => {
      const reply = replies[3 + c] as string[];
      chunk.forEach((i, j) => {
        const outcome = reply[2 * j] as EnqueueOutcome;
        results[i] = { requestId: reply[2 * j + 1]!, outcome };
        const item = items[i]!;
        if (outcome === 'created') {
          addDue(due, item.functionName, item.scheduledAt);
          const candidates = item.scheduledAt <= item.createdAt ? this.#candidates.get(item.functionName) : undefined;
          if (candidates && candidates.length < CANDIDATES_MAX) candidates.push(item.requestId);
        }
        else unused.push(item.requestId);
      });
    });
    if (unused.length) {
      await runSteps(client, [
        { command: 'hdel', args: [keys.functionOf, ...unused] },
        { command: 'zrem', args: [keys.created, ...unused] },
      ]);
    }
    this.#signalDue(client, due);
    return results;
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const { now, slots } = request;
    const client = await this.#p.client();
    this.#lastNow = now;
    if (now >= this.#nextPruneAt) this.#pruneInBackground(now);
    if (slots.length === 0 || request.limit <= 0) return { items: [], nextDueAt: undefined };
    const items: Claimed[] = [];
    const quotas = slots.map((slot) => slot.limit);
    // Earliest dueAt per slot, from the latest script call that covered it.
    const nextDue: (number | undefined)[] = new Array<number | undefined>(slots.length);
    let pending = slots.map((_slot, s) => s);
    const tokenBase = nanoid(12);
    // Usually one round: the candidates guessed from the previous claim were the due ones.
    // When they were not (other processes enqueued or claimed), the script stopped early and
    // returned the right ones, so the next round takes them.
    for (let round = 0; round < MAX_CLAIM_ROUNDS && pending.length; round++) {
      pending = await this.#claimRound(client, request, pending, quotas, nextDue, request.limit - items.length, items, `${tokenBase}${round}:`);
      if (items.length >= request.limit) break;
    }
    let nextDueAt: number | undefined;
    for (const at of nextDue) if (at !== undefined && (nextDueAt === undefined || at < nextDueAt)) nextDueAt = at;
    return { items, nextDueAt };
  }

  /**
   * One claim script per slot in `pending`, in one pipeline; updates `quotas`, `nextDue`, the
   * candidate cache and `items`. Returns the slots that should claim again.
   */
  async #claimRound(
    client: Redis, request: ClaimRequest, pending: readonly number[], quotas: number[],
    nextDue: (number | undefined)[], limit: number, items: Claimed[], tokenBase: string,
  ): Promise<number[]> {
    const { keys } = this.#p;
    const { now, slots } = request;
    const steps: Step[] = [];
    const wanted: number[] = [];
    let remaining = limit;
    for (const s of pending) {
      const slot = slots[s]!;
      const n = Math.min(quotas[s]!, remaining);
      remaining -= n;
      wanted.push(n);
      const fn = slot.functionName;
      const cached = this.#candidates.get(fn);
      const candidates = n > 0 && cached ? cached.slice(0, n + CANDIDATES_SLACK) : [];
      const scriptKeys = keys.index(fn);
      for (const rid of candidates) scriptKeys.push(keys.record(fn, rid));
      steps.push({
        script: 'claim',
        keys: scriptKeys,
        args: [now, request.leaseMs, slot.maxEventAgeMs, `${fn}${TOKEN_SEPARATOR}${tokenBase}`, n,
          Math.min(Math.max(n, PEEK_MIN), PEEK_MAX), ...candidates],
      });
    }
    const replies = await runSteps(client, steps);
    const again: number[] = [];
    pending.forEach((s, i) => {
      const fn = slots[s]!.functionName;
      const reply = replies[i] as [string, string[], ...(string | (string | null)[])[]];
      nextDue[s] = reply[0] === '' ? undefined : Number(reply[0]);
      const candidates = reply[1];
      this.#candidates.set(fn, candidates);
      let taken = 0;
      for (let j = 2; j + 2 < reply.length; j += 3) {
        const record = decodeClaimed(fn, reply[j + 2] as (string | null)[]);
        if (record) items.push({ kind: reply[j] as ClaimKind, leaseToken: reply[j + 1] as string, record });
        taken++;
      }
      quotas[s] = quotas[s]! - taken;
      // Fewer than asked while some are still due: the guess missed them (or hit strays).
      if (taken < wanted[i]! && candidates.length > 0) again.push(s);
    });
    return again;
  }

  async settle(items: readonly Settlement[]): Promise<SettleOutcome[]> {
    if (items.length === 0) return [];
    const client = await this.#p.client();
    // Written one turn later: the claim a worker makes as its slots free up (on that turn) goes
    // first, so Redis answers it before running these, and the worker starts the next batch
    // while Redis settles the last one.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const fns = await this.#functionsOf(client, items);
    const outcomes: SettleOutcome[] = new Array<SettleOutcome>(items.length).fill('stale');
    const groups = this.#groupKnown(items, fns);
    const steps: Step[] = [];
    const order: [string, number[]][] = [...groups];
    for (const [fn, indexes] of order) {
      steps.push({
        script: 'settle',
        keys: [...this.#p.keys.index(fn), ...indexes.map((i) => this.#p.keys.record(fn, items[i]!.requestId))],
        args: indexes.flatMap((i) => settlementArgs(items[i]!)),
      });
    }
    const replies = await runSteps(client, steps);
    const due = new Map<string, number>();
    order.forEach(([fn, indexes], g) => {
      const reply = replies[g] as string[];
      indexes.forEach((i, j) => {
        outcomes[i] = reply[2 * j] as SettleOutcome;
        const at = reply[2 * j + 1]!;
        if (at !== '') addDue(due, fn, Number(at));
      });
    });
    this.#signalDue(client, due);
    this.#settledSincePrune += items.length;
    if (this.#settledSincePrune >= PRUNE_EVERY_SETTLES && this.#lastNow !== undefined) this.#pruneInBackground(this.#lastNow);
    return outcomes;
  }

  async heartbeat(request: HeartbeatRequest): Promise<HeartbeatResult> {
    const lost: string[] = [];
    const stopping: string[] = [];
    if (request.leases.length === 0) return { lost, stopping };
    const client = await this.#p.client();
    const { leases } = request;
    const fns = await this.#functionsOf(client, leases);
    const groups = this.#groupKnown(leases, fns);
    leases.forEach((lease, i) => {
      if (fns[i] === undefined) lost.push(lease.requestId);
    });
    const order = [...groups];
    const steps: Step[] = order.map(([fn, indexes]) => ({
      script: 'heartbeat',
      keys: [...this.#p.keys.index(fn), ...indexes.map((i) => this.#p.keys.record(fn, leases[i]!.requestId))],
      args: [request.now + request.leaseMs, ...indexes.flatMap((i) => [leases[i]!.requestId, leases[i]!.leaseToken])],
    }));
    const replies = await runSteps(client, steps);
    order.forEach(([, indexes], g) => {
      const reply = replies[g] as string[];
      indexes.forEach((i, j) => {
        if (reply[j] === 'lost') lost.push(leases[i]!.requestId);
        else if (reply[j] === 'stopping') stopping.push(leases[i]!.requestId);
      });
    });
    return { lost, stopping };
  }

  async requestStop(request: StopRequest): Promise<StopResult> {
    const client = await this.#p.client();
    const { keys } = this.#p;
    // The requestId alone does not name the record key: one extra read finds its function.
    const fn = await client.hget(keys.functionOf, request.requestId);
    if (fn === null) return { outcome: 'notFound' };
    const [reply] = await runSteps(client, [{
      script: 'stop',
      keys: [...keys.index(fn), keys.record(fn, request.requestId)],
      args: [request.requestId, request.now, request.deliverOnFailure ? '1' : ''],
    }]);
    const [outcome, fields] = reply as [StopResult['outcome'], FlatFields];
    const record = decodeRecord(fn, toFields(fields));
    if (!record) return { outcome: 'notFound' };
    if (outcome === 'stopping') this.#p.signals.publish(client, [{ type: 'stop', requestId: request.requestId }]);
    else if (outcome === 'stopped' && record.dueAt !== undefined) {
      this.#signalDue(client, new Map([[fn, record.dueAt]]));
    }
    return { outcome, record };
  }

  async get(requestId: string): Promise<StoredInvocation | undefined> {
    const client = await this.#p.client();
    const fn = await client.hget(this.#p.keys.functionOf, requestId);
    if (fn === null) return undefined;
    const fields = await client.hgetall(this.#p.keys.record(fn, requestId));
    return decodeRecord(fn, new Map(Object.entries(fields)));
  }

  async list(query: ListQuery): Promise<ListPage> {
    return listInvocations(await this.#p.client(), this.#p.keys, query);
  }

  async stats(functionNames?: readonly string[]): Promise<QueueStats> {
    return queueStats(await this.#p.client(), this.#p.keys, functionNames);
  }

  async prune(now: number): Promise<number> {
    return pruneFinished(await this.#p.client(), this.#p.keys, this.#p.retention, now);
  }

  subscribe(listener: (signal: StoreSignal) => void): () => void {
    // A failed subscriber connection only costs wake-up latency: claims still find the work.
    return this.#p.signals.subscribe(listener, () => {});
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#background?.catch(() => {});
    await this.#p.signals.close();
    await this.#p.release();
  }

  /** Retention as the store goes; a failed pass is simply tried again at the next interval. */
  #pruneInBackground(now: number): void {
    this.#nextPruneAt = now + PRUNE_EVERY_MS;
    this.#settledSincePrune = 0;
    if (this.#background) return;
    this.#background = this.prune(now)
      .catch(() => {})
      .finally(() => (this.#background = undefined));
  }

  /** The function of each lease (from its token, else one read of the global map). */
  async #functionsOf(client: Redis, leases: readonly { requestId: string; leaseToken: string }[]): Promise<(string | undefined)[]> {
    const fns = leases.map((l) => functionOfToken(l.leaseToken));
    const unknown = fns.flatMap((fn, i) => (fn === undefined ? [i] : []));
    if (unknown.length) {
      const found = await client.hmget(this.#p.keys.functionOf, ...unknown.map((i) => leases[i]!.requestId));
      unknown.forEach((i, j) => (fns[i] = found[j] ?? undefined));
    }
    return fns;
  }

  #groupKnown<T>(items: readonly T[], fns: readonly (string | undefined)[]): Map<string, number[]> {
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

  #signalDue(client: Redis, due: Map<string, number>): void {
    if (due.size === 0) return;
    const signals: StoreSignal[] = [];
    for (const [functionName, at] of due) signals.push({ type: 'due', functionName, at });
    this.#p.signals.publish(client, signals);
  }
}
