/**
 * invokeAsyncMany: many invocations in one store call, on the memory store, a SQLite file, Redis
 * and PostgreSQL, with invokeAsync's validation and idempotency per item and per-item results in
 * input order; a call of more than 1,000 items makes overlapping store calls.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { redisStore } from '../../src/stores/redis/index.js';
import { sqliteStore } from '../../src/stores/sqlite/index.js';
import {
  createInvoker,
  IdempotencyConflictError,
  InvalidArgumentError,
  memoryStore,
  PayloadTooLargeError,
  StoreError,
  UnknownFunctionError,
  type Invoker,
  type InvokeAsyncManyResult,
  type Store,
} from '../../src/index.js';
import { waitFor } from '../helpers.js';
import { dropPrefix, REDIS_URL, redisAvailable } from '../stores/redis-server.js';

const dir = mkdtempSync(join(tmpdir(), 'async-invoker-many-'));
const PG_URL = process.env.PG_URL ?? 'postgres://root@127.0.0.1:5432/test';
const runId = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const prefixes: string[] = [];
const schemas: string[] = [];
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  for (const prefix of prefixes) await dropPrefix(prefix);
  if (schemas.length === 0) return;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  for (const schema of schemas) await admin.query(`drop schema if exists "${schema}" cascade`);
  await admin.end();
});
let files = 0;
let open: Invoker[] = [];
afterEach(async () => {
  await Promise.all(open.map((i) => i.close({ timeoutSeconds: 1 })));
  open = [];
});

// Each test gets an empty store of its own: a file, a Redis prefix, a PostgreSQL schema.
const stores: [string, () => Store][] = [
  ['memory', () => memoryStore()],
  ['sqlite', () => sqliteStore({ path: join(dir, `many-${files++}.db`) })],
  ...(redisAvailable ? [['redis', () => redisStore({ url: REDIS_URL, prefix: prefixes[prefixes.push(`many-${runId}-${files++}`) - 1]! })] as [string, () => Store]] : []),
  ['postgres', () => postgresStore({ connectionString: PG_URL, schema: schemas[schemas.push(`ai_many_${runId}_${files++}`) - 1]! })],
];

/** Counts the store's enqueue calls and how many were under way at once; `fail` picks calls to fail instead. */
function counted(store: Store, fail: (call: number) => boolean = () => false): { store: Store; calls: number[]; mostAtOnce: () => number } {
  const calls: number[] = [];
  let underWay = 0;
  let most = 0;
  const enqueue = store.enqueue.bind(store);
  store.enqueue = async (items) => {
    calls.push(items.length);
    if (fail(calls.length)) throw new StoreError(`store: enqueue call ${calls.length} fails for the test`);
    most = Math.max(most, ++underWay);
    try {
      return await enqueue(items);
    } finally {
      underWay--;
    }
  };
  // The memory store's synchronous path would bypass the count.
  Object.defineProperty(store, 'immediate', { value: undefined });
  return { store, calls, mostAtOnce: () => most };
}

/** Every invocation the invoker's store holds, page by page. */
async function allRecords(invoker: Invoker) {
  const records = [];
  let cursor: string | undefined;
  do {
    const page = await invoker.listInvocations({ limit: 1000, ...(cursor ? { cursor } : {}) });
    records.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return records;
}

const requestIds = (results: InvokeAsyncManyResult[]) => results.map((r) => (r.ok ? r.requestId : r.error.name));

describe.each(stores)('invokeAsyncMany on the %s store', (_name, makeStore) => {
  it('stores every item in one store call and runs each, results in input order', async () => {
    const { store, calls } = counted(makeStore());
    const invoker = createInvoker({ store, concurrency: 4 });
    open.push(invoker);
    const seen: number[] = [];
    invoker.register('add', (p: { n: number }) => {
      seen.push(p.n);
      return p.n + 1;
    });
    const results = await invoker.invokeAsyncMany(Array.from({ length: 50 }, (_, n) => ({ name: 'add', payload: { n } })));
    expect(calls).toEqual([50]);
    expect(results.every((r) => r.ok)).toBe(true);
    const ids = results.map((r) => (r as { requestId: string }).requestId);
    await waitFor(async () => (await Promise.all(ids.map((id) => invoker.getInvocation(id)))).every((r) => r?.status === 'Succeeded'), { what: 'all 50 to succeed' });
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, n) => n));
    for (const [n, id] of ids.entries()) {
      expect(await invoker.getInvocation(id)).toMatchObject({ functionName: 'add', payload: { n }, status: 'Succeeded', result: n + 1 });
    }
  });

  it('gives each bad item the error invokeAsync would throw, and stores the others', async () => {
    const { store, calls } = counted(makeStore());
    const invoker = createInvoker({ store, concurrency: 0, maxPayloadBytes: 1024 });
    open.push(invoker);
    invoker.register('f', () => null, { maxAsyncEventAgeInSeconds: 60 });
    const results = await invoker.invokeAsyncMany([
      { name: 'f', payload: { ok: 1 } },
      { name: 'nope', payload: {} },
      { name: 'f', payload: { big: 'x'.repeat(2000) } },
      { name: 'f', payload: {}, options: { delaySeconds: 61 } },
      { name: 'f', payload: { when: new Date() } as never },
      null as never,
      { name: 42, payload: {} } as never,
      { name: 'f', payload: { ok: 2 }, options: { invocationId: 'second' } },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, false, false, false, false, false, false, true]);
    const errors = results.map((r) => (r.ok ? undefined : r.error));
    expect(errors[1]).toBeInstanceOf(UnknownFunctionError);
    expect(errors[2]).toBeInstanceOf(PayloadTooLargeError);
    expect(errors[3]).toBeInstanceOf(InvalidArgumentError);
    expect(errors[3]!.message).toMatch(/options\.delaySeconds must be at most the function's maxAsyncEventAgeInSeconds \(60\)/);
    expect(errors[4]!.message).toMatch(/payload/);
    expect(errors[5]!.message).toMatch(/items\[5\] must be an object \{ name, payload, options\? \}; received null/);
    expect(errors[6]!.message).toMatch(/items\[6\]\.name/);
    // Only the two good ones reached the store, in one call.
    expect(calls).toEqual([2]);
    expect((await invoker.listInvocations()).items.map((r) => r.payload).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([{ ok: 1 }, { ok: 2 }]);
  });

  it('applies invocationId idempotency within a call and across calls', async () => {
    const invoker = createInvoker({ store: makeStore(), concurrency: 0 });
    open.push(invoker);
    invoker.register('f', () => null);
    const earlier = await invoker.invokeAsync('f', { v: 1 }, { invocationId: 'order-1' });
    const results = await invoker.invokeAsyncMany([
      { name: 'f', payload: { v: 1 }, options: { invocationId: 'order-1' } },
      { name: 'f', payload: { v: 2 }, options: { invocationId: 'order-2' } },
      { name: 'f', payload: { v: 2 }, options: { invocationId: 'order-2' } },
      { name: 'f', payload: { v: 3 }, options: { invocationId: 'order-2' } },
    ]);
    expect(results[0]).toEqual({ ok: true, requestId: earlier.requestId });
    expect(results[1]!.ok && results[2]!.ok && results[1]!.requestId === results[2]!.requestId).toBe(true);
    expect(results[3]!.ok).toBe(false);
    expect((results[3] as { error: Error }).error).toBeInstanceOf(IdempotencyConflictError);
    expect((await invoker.listInvocations()).items).toHaveLength(2);
  });

  it('makes one store call per 1,000 items, the next under way while the store writes one', async () => {
    const { store, calls, mostAtOnce } = counted(makeStore());
    const invoker = createInvoker({ store, concurrency: 0 });
    open.push(invoker);
    invoker.register('f', () => null);
    const results = await invoker.invokeAsyncMany(Array.from({ length: 2500 }, (_, i) => ({ name: 'f', payload: i })));
    expect(calls).toEqual([1000, 1000, 500]);
    expect(mostAtOnce()).toBe(2);
    expect(new Set(requestIds(results)).size).toBe(2500);
    const stored = await allRecords(invoker);
    expect(stored.map((r) => r.payload).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 2500 }, (_, i) => i));
  });

  it('gives items of different store calls with one invocationId one request id', async () => {
    const invoker = createInvoker({ store: makeStore(), concurrency: 0 });
    open.push(invoker);
    invoker.register('f', () => null);
    // Items 5, 1,005 and 2,005 go in three store calls, the first two under way at once.
    const same = new Set([5, 1005, 2005]);
    const items = Array.from({ length: 2500 }, (_, i) =>
      same.has(i) ? { name: 'f', payload: { same: true }, options: { invocationId: 'order-1' } }
      : i === 1500 ? { name: 'f', payload: { same: false }, options: { invocationId: 'order-1' } }
      : { name: 'f', payload: { i } });
    const results = await invoker.invokeAsyncMany(items);
    const [a, b, c] = [...same].map((i) => results[i]!);
    expect(a).toMatchObject({ ok: true });
    expect([b, c]).toEqual([a, a]);
    expect((results[1500] as { error: Error }).error).toBeInstanceOf(IdempotencyConflictError);
    expect(results.filter((r) => r.ok)).toHaveLength(2499);
    expect(await allRecords(invoker)).toHaveLength(2497);
  });

  it('rejects when one store call fails, and reports as enqueued exactly what was stored', async () => {
    const { store, calls } = counted(makeStore(), (call) => call === 2);
    const invoker = createInvoker({ store, concurrency: 0 });
    open.push(invoker);
    invoker.register('f', () => null);
    const enqueued: string[] = [];
    invoker.on('enqueued', (e) => enqueued.push(e.requestId));
    await expect(invoker.invokeAsyncMany(Array.from({ length: 2500 }, (_, i) => ({ name: 'f', payload: i })))).rejects.toThrow(/enqueue call 2 fails/);
    const stored = await allRecords(invoker);
    expect(stored.map((r) => r.requestId).sort()).toEqual([...enqueued].sort());
    const payloads = new Set(stored.map((r) => Number(r.payload)));
    // The first call's items are stored, none of the failed call's.
    expect(Array.from({ length: 1000 }, (_, i) => payloads.has(i))).not.toContain(false);
    expect(Array.from({ length: 1000 }, (_, i) => payloads.has(1000 + i))).not.toContain(true);
    expect(calls.slice(0, 2)).toEqual([1000, 1000]);
  });
});

describe('invokeAsyncMany: bad input changes nothing', () => {
  it('refuses anything but an array of at most 10,000 items, storing nothing', async () => {
    const invoker = createInvoker({ store: memoryStore(), concurrency: 0 });
    open.push(invoker);
    invoker.register('f', () => null);
    await expect(invoker.invokeAsyncMany({} as never)).rejects.toThrow(/items must be an array of at most 10000/);
    await expect(invoker.invokeAsyncMany(Array.from({ length: 10_001 }, () => ({ name: 'f', payload: null })))).rejects.toThrow(InvalidArgumentError);
    expect((await invoker.listInvocations()).items).toEqual([]);
  });

  it('rejects with the store\'s error when the store fails, and emits no enqueued event for what it did not store', async () => {
    const store = memoryStore();
    Object.defineProperty(store, 'immediate', { value: undefined });
    store.enqueue = () => Promise.reject(new StoreError('memory store: down for the test'));
    const invoker = createInvoker({ store, concurrency: 0 });
    open.push(invoker);
    invoker.register('f', () => null);
    const enqueued: string[] = [];
    invoker.on('enqueued', (e) => enqueued.push(e.requestId));
    await expect(invoker.invokeAsyncMany([{ name: 'f', payload: 1 }, { name: 'f', payload: 2 }])).rejects.toThrow(StoreError);
    expect(enqueued).toEqual([]);
  });
});
