/**
 * The Redis store's state changes: each is one Lua script per function (scripts/*.lua), sent
 * for all functions of a call in one pipeline. Lease tokens start with the function name, so a
 * settle or heartbeat finds the record key without asking the server first.
 */
import { nanoid } from 'nanoid';
import type { Redis } from 'ioredis';
import { decodeRecord, settlementArgs, toFields, type FlatFields } from './codec.js';
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
        const args: string[] = [];
        for (const i of chunk) {
          const item = items[i]!;
          scriptKeys.push(keys.record(fn, item.requestId), keys.idempotency(fn, item.invocationId));
          const event = item.detail === undefined
            ? { at: item.createdAt, status: 'Enqueued', attempt: 0 }
            : { at: item.createdAt, status: 'Enqueued', attempt: 0, detail: item.detail };
          args.push(item.requestId, String(item.createdAt), String(item.scheduledAt), String(item.hops),
            JSON.stringify(item.payload), JSON.stringify(event), item.invocationId ?? '', item.payloadKey ?? '');
        }
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
        if (outcome === 'created') addDue(due, item.functionName, item.scheduledAt);
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
    const tokenBase = nanoid(12);
    let nextDueAt: number | undefined;
    // Concurrent claimers read the same candidates and only one gets each: a claimer that
    // lost some reads again, so it still takes its share of what is due.
    for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
      const r = await this.#claimRound(client, request, quotas, request.limit - items.length, `${tokenBase}${round}:`);
      for (const item of r.items) items.push(item);
      nextDueAt = r.nextDueAt;
      if (!r.contended || items.length >= request.limit) break;
    }
    return { items, nextDueAt };
  }

  /** One read of candidates, then one claim script per slot with any; updates `quotas`. */
  async #claimRound(client: Redis, request: ClaimRequest, quotas: number[], limit: number, tokenBase: string) {
    const { keys } = this.#p;
    const { now, slots } = request;
    // Phase 1: candidate ids (a script may only touch the keys it is given, so the record
    // keys must be known before the claim script runs). The earliest dueAt comes along, so an
    // idle poll costs one round trip.
    const peek: Step[] = [];
    let remaining = limit;
    const wanted = slots.map((slot, s) => {
      const n = Math.min(quotas[s]!, remaining);
      remaining -= n;
      const [due] = keys.index(slot.functionName);
      peek.push({ command: 'zrangebyscore', args: [due!, '-inf', now, 'LIMIT', 0, Math.max(n, 1)] });
      peek.push({ command: 'zrange', args: [due!, 0, 0, 'WITHSCORES'] });
      return n;
    });
    const peeked = await runSteps(client, peek);
    let nextDueAt: number | undefined;
    const steps: Step[] = [];
    const stepSlot: number[] = [];
    slots.forEach((slot, s) => {
      const candidates = (peeked[2 * s] as string[]).slice(0, wanted[s]);
      if (candidates.length === 0) {
        const first = peeked[2 * s + 1] as string[];
        if (first.length) nextDueAt = Math.min(nextDueAt ?? Infinity, Number(first[1]));
        return;
      }
      const fn = slot.functionName;
      stepSlot.push(s);
      steps.push({
        script: 'claim',
        keys: [...keys.index(fn), ...candidates.map((rid) => keys.record(fn, rid))],
        args: [now, request.leaseMs, slot.maxEventAgeMs, `${fn}${TOKEN_SEPARATOR}${tokenBase}`, candidates.length, ...candidates],
      });
    });
    const items: Claimed[] = [];
    let contended = false;
    if (steps.length === 0) return { items, nextDueAt, contended };
    const replies = await runSteps(client, steps);
    steps.forEach((step, i) => {
      const s = stepSlot[i]!;
      const fn = slots[s]!.functionName;
      const reply = replies[i] as [string, ...(string | FlatFields)[]];
      if (reply[0] !== '') nextDueAt = Math.min(nextDueAt ?? Infinity, Number(reply[0]));
      let taken = 0;
      for (let j = 1; j + 2 < reply.length; j += 3) {
        const record = decodeRecord(fn, toFields(reply[j + 2] as FlatFields));
        if (record) items.push({ kind: reply[j] as ClaimKind, leaseToken: reply[j + 1] as string, record });
        taken++;
      }
      quotas[s] = quotas[s]! - taken;
      // Fewer than the candidates: some were taken by another claimer (or were strays).
      if (taken < step.args.length - 5) contended = true;
    });
    return { items, nextDueAt, contended };
  }

  async settle(items: readonly Settlement[]): Promise<SettleOutcome[]> {
    if (items.length === 0) return [];
    const client = await this.#p.client();
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
