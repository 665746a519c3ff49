/**
 * Flow control in the engine (issue 16), on the memory store and a SQLite file: limits hold
 * running attempts, starts per second and groups; held-back work stays Enqueued, keeps its place,
 * spends nothing and still expires; the worker waits for a slot or the window without polling;
 * metrics and functions() show the limits; processes that disagree about them are warned.
 * Cross-process enforcement is tested with worker processes in test/flow.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sqliteStore } from '../../src/stores/sqlite/index.js';
import {
  createInvoker,
  fakeClock,
  InvalidArgumentError,
  memoryStore,
  type Invoker,
  type InvokerOptions,
  type Store,
  type ThrottledEvent,
  type WarningEvent,
} from '../../src/index.js';
import { waitFor } from '../helpers.js';
import { succeed } from '../stores/conformance-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'async-invoker-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
let open: Invoker[] = [];
afterEach(async () => {
  await Promise.all(open.map((i) => i.close({ timeoutSeconds: 1 })));
  open = [];
});

const stores: [string, () => Store][] = [
  ['memory', () => memoryStore()],
  ['sqlite', () => sqliteStore({ path: join(dir, `limits-${files++}.db`) })],
];

function invoker(options: InvokerOptions): Invoker {
  const created = createInvoker(options);
  open.push(created);
  return created;
}

/** Handlers that run until the test releases them, one by one or all. */
function gated() {
  const waiting: (() => void)[] = [];
  let running = 0;
  let most = 0;
  const started: string[] = [];
  return {
    started,
    get running() {
      return running;
    },
    get most() {
      return most;
    },
    handler: async (payload: { id: string }) => {
      started.push(payload.id);
      most = Math.max(most, ++running);
      await new Promise<void>((resolve) => waiting.push(resolve));
      running--;
      return null;
    },
    releaseOne: () => waiting.shift()?.(),
    get parked() {
      return waiting.length;
    },
  };
}

describe.each(stores)('function limits on the %s store', (_name, makeStore) => {
  it('runs at most limits.concurrency at once; the rest wait Enqueued, spend nothing, and start in order as slots free', async () => {
    const inv = invoker({ store: makeStore(), concurrency: 10 });
    const gate = gated();
    const throttled: ThrottledEvent[] = [];
    inv.on('throttled', (e) => throttled.push(e));
    inv.register('charge', gate.handler, { limits: { concurrency: 2 } });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await inv.invokeAsync('charge', { id: `c${i}` })).requestId);
    await waitFor(() => gate.parked === 2 && throttled.length > 0, { what: 'two running and a throttled event' });
    expect(gate.started).toEqual(['c0', 'c1']);
    expect(throttled[0]).toMatchObject({ functionName: 'charge', reason: 'concurrency' });
    for (const id of ids.slice(2)) expect(await inv.getInvocation(id)).toMatchObject({ status: 'Enqueued', attempts: 0 });
    expect(inv.metrics().functions.charge!.FunctionHeldBackCount).toBeGreaterThan(0);
    const queue = (await inv.queueMetrics()).functions.charge!;
    expect(queue).toMatchObject({ depth: 3, running: 2, limits: { concurrency: 2 }, heldBackBy: 'concurrency' });
    // Each freed slot starts the oldest waiting one, and never a third at once.
    gate.releaseOne();
    await waitFor(() => gate.started.length === 3, { what: 'a third start after a slot freed' });
    expect(gate.started[2]).toBe('c2');
    while (gate.started.length < 5 || gate.parked > 0) {
      gate.releaseOne();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(async () => (await Promise.all(ids.map((id) => inv.getInvocation(id)))).every((r) => r!.status === 'Succeeded'), { what: 'all to succeed' });
    expect(gate.started).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    expect(gate.most).toBe(2);
    expect(inv.functions().find((f) => f.name === 'charge')!.limits).toEqual({ concurrency: 2 });
    expect((await inv.queueMetrics()).functions.charge!.heldBackBy).toBeUndefined();
  });

  it('starts at most limits.perSecond per second and claims again when the window opens (one timer, no polling)', async () => {
    const clock = fakeClock();
    const store = makeStore();
    let claims = 0;
    const claim = store.claim.bind(store);
    store.claim = (request) => {
      claims++;
      return claim(request);
    };
    const inv = invoker({ store, clock, concurrency: 10 });
    const throttled: ThrottledEvent[] = [];
    inv.on('throttled', (e) => throttled.push(e));
    const ran: number[] = [];
    inv.register('email', (p: { n: number }) => {
      ran.push(p.n);
      return null;
    }, { limits: { perSecond: 2 } });
    for (let n = 0; n < 5; n++) await inv.invokeAsync('email', { n });
    const start = clock.now();
    await waitFor(() => ran.length === 2 && throttled.length > 0, { what: 'two runs and a throttled event' });
    await inv.idle();
    expect(throttled.at(-1)).toMatchObject({ reason: 'rate', retryAt: start + 1000 });
    // Held back until the window opens: no claim in between, however many turns pass.
    const claimsWhileHeld = claims;
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    await clock.advance(999);
    await inv.idle();
    expect(claims).toBe(claimsWhileHeld);
    expect(ran).toEqual([0, 1]);
    await clock.advance(1);
    await waitFor(() => ran.length === 4, { what: 'two more once the window opened' });
    await clock.advance(1000);
    await waitFor(() => ran.length === 5, { what: 'the last one' });
    expect(ran).toEqual([0, 1, 2, 3, 4]);
  });

  it('serves groups round-robin with groupConcurrency 1: a later group is not stuck behind a backlog', async () => {
    const store = makeStore();
    const producer = invoker({ store, concurrency: 0 });
    const limits = { groupBy: (p: { tenant: string }) => p.tenant, groupConcurrency: 1 };
    producer.register('sync', () => null, { limits });
    for (let i = 0; i < 12; i++) await producer.invokeAsync('sync', { tenant: 'A', i });
    for (let i = 0; i < 3; i++) await producer.invokeAsync('sync', { tenant: 'B', i });
    const order: string[] = [];
    let running = 0;
    let most = 0;
    const worker = invoker({ store, concurrency: 8 });
    worker.register('sync', async (p: { tenant: string; i: number }) => {
      order.push(`${p.tenant}${p.i}`);
      most = Math.max(most, ++running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      return null;
    }, { limits });
    await waitFor(() => order.length === 15, { what: 'all 15 runs' });
    // B's three all started before A's fifth.
    expect(order.indexOf('B2')).toBeLessThan(order.indexOf('A4'));
    // One at a time per group: at most one of A and one of B at once.
    expect(most).toBeLessThanOrEqual(2);
  });

  it('takes a slot back from a worker that died holding it once its lease lapses, though nothing signals that', async () => {
    const clock = fakeClock();
    const store = makeStore();
    const producer = invoker({ store, clock, concurrency: 0 });
    producer.register('charge', () => null, { limits: { concurrency: 1 } });
    const lost = await producer.invokeAsync('charge', { id: 'lost' });
    // A worker claims it and dies: its lease (10 s) is never renewed, and no settle signals anything.
    const dead = await store.claim({
      now: clock.now(),
      leaseMs: 10_000,
      limit: 1,
      slots: [{ functionName: 'charge', limit: 1, maxEventAgeMs: 86_400_000, limits: { concurrency: 1 } }],
    });
    expect(dead.items.map((c) => c.record.requestId)).toEqual([lost.requestId]);
    const waits = await producer.invokeAsync('charge', { id: 'waits' });
    const started: string[] = [];
    const throttled: ThrottledEvent[] = [];
    const worker = invoker({ store, clock, concurrency: 4, leaseSeconds: 10 });
    worker.on('throttled', (e) => throttled.push(e));
    worker.register('charge', (payload: { id: string }) => {
      started.push(payload.id);
      return null;
    }, { limits: { concurrency: 1 } });
    await waitFor(() => throttled.length > 0, { what: "the worker to be held back by the dead one's slot" });
    // The dead lease bounds the wait, not the day of event age left to the waiting work.
    await clock.advance(10_000);
    await waitFor(() => started.includes('waits'), { what: 'the waiting one to run once the dead lease lapsed' });
    // The lost attempt is retried after its backoff.
    await waitFor(
      async () => {
        if ((await worker.getInvocation(lost.requestId))?.status === 'Succeeded') return true;
        await clock.advance(1_000);
        return false;
      },
      { what: 'the lost one to succeed on its retry' },
    );
    expect(started.sort()).toEqual(['lost', 'waits']);
    expect((await worker.getInvocation(waits.requestId))!.status).toBe('Succeeded');
    expect((await worker.getInvocation(lost.requestId))!.events.some((e) => e.detail?.includes('WorkerLost'))).toBe(true);
  });

  it('still expires held-back work by age while every slot stays busy', async () => {
    const clock = fakeClock();
    const inv = invoker({ store: makeStore(), clock, concurrency: 4, leaseSeconds: 10 });
    const gate = gated();
    const throttled: ThrottledEvent[] = [];
    inv.on('throttled', (e) => throttled.push(e));
    inv.register('slow', gate.handler, { limits: { concurrency: 1 }, maxAsyncEventAgeInSeconds: 60 });
    await inv.invokeAsync('slow', { id: 'busy' });
    const { requestId } = await inv.invokeAsync('slow', { id: 'waits' });
    await waitFor(() => gate.parked === 1 && throttled.length > 0, { what: 'the first to run and the second held back' });
    expect(throttled[0]!.reason).toBe('concurrency');
    try {
      await clock.advance(61_000);
      await waitFor(async () => (await inv.getInvocation(requestId))?.status === 'Expired', { what: 'the held-back one to expire' });
      expect(await inv.getInvocation(requestId)).toMatchObject({ status: 'Expired', attempts: 0 });
      expect(gate.started).toEqual(['busy']);
    } finally {
      // close() waits for handlers on the fake clock's time: let the busy one end.
      gate.releaseOne();
    }
  });
});

describe('a wake-up that arrives while a claim is in flight', () => {
  it('is not lost when that claim comes back held: the freed slot is claimed at once, not when the lease would lapse', async () => {
    const clock = fakeClock();
    const real = memoryStore();
    // The real memory store, answering claims asynchronously, each answer released by the test.
    const releases: (() => void)[] = [];
    let claims = 0;
    const store = new Proxy(real, {
      get(target, key, receiver) {
        if (key === 'immediate') return undefined;
        if (key === 'claim') {
          return async (request: Parameters<Store['claim']>[0]) => {
            const result = await target.claim(request);
            claims++;
            await new Promise<void>((resolve) => releases.push(resolve));
            return result;
          };
        }
        const value = Reflect.get(target, key, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as Store;
    const limits = { concurrency: 1 };
    const producer = invoker({ store: real, clock, concurrency: 0 });
    producer.register('charge', () => null, { limits });
    const other = await producer.invokeAsync('charge', { id: 'other' });
    // Another worker runs `other` (a 30 s lease).
    const elsewhere = await real.claim({ now: clock.now(), leaseMs: 30_000, limit: 1, slots: [{ functionName: 'charge', limit: 1, maxEventAgeMs: 86_400_000, limits }] });
    const waits = await producer.invokeAsync('charge', { id: 'waits' });
    const started: string[] = [];
    const worker = invoker({ store, clock, concurrency: 4 });
    worker.register('charge', (payload: { id: string }) => {
      started.push(payload.id);
      return null;
    }, { limits });
    await waitFor(() => releases.length === 1, { what: 'the first claim to be in flight' });
    // While it is in flight (its answer: held back), the other worker finishes and frees the slot.
    const [held] = elsewhere.items;
    await real.settle([{ ...succeed(other.requestId, held!.leaseToken, clock.now()), wake: true }]);
    releases.shift()!();
    // The worker claims again on that wake-up, without the clock moving.
    await waitFor(
      () => {
        releases.shift()?.();
        return started.includes('waits');
      },
      { what: 'the waiting invocation to start on the wake-up heard during the held claim' },
    );
    expect(claims).toBeGreaterThanOrEqual(2);
    releases.forEach((release) => release());
    await waitFor(async () => (await worker.getInvocation(waits.requestId))?.status === 'Succeeded', { what: 'it to succeed' });
  });
});

describe('a limited slot freed while its settlement is still being written', () => {
  it('is claimed at once: the claim tells the store which attempts ended, and nothing more runs at once than the limit', async () => {
    const clock = fakeClock();
    const real = memoryStore();
    // The real memory store, answering asynchronously, its settlements held until the test releases them.
    const heldSettles: (() => void)[] = [];
    const requests: Parameters<Store['claim']>[0][] = [];
    const store = new Proxy(real, {
      get(target, key, receiver) {
        if (key === 'immediate') return undefined;
        if (key === 'claim') {
          return (request: Parameters<Store['claim']>[0]) => {
            requests.push(request);
            return target.claim(request);
          };
        }
        if (key === 'settle') {
          return async (items: Parameters<Store['settle']>[0]) => {
            await new Promise<void>((resolve) => heldSettles.push(resolve));
            return target.settle(items);
          };
        }
        const value = Reflect.get(target, key, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as Store;
    const limits = { concurrency: 1 };
    let running = 0;
    let most = 0;
    const started: string[] = [];
    const worker = invoker({ store, clock, concurrency: 1 });
    worker.register('charge', async (payload: { id: string }) => {
      started.push(payload.id);
      most = Math.max(most, ++running);
      await Promise.resolve();
      running--;
      return null;
    }, { limits });
    try {
      const first = await worker.invokeAsync('charge', { id: 'first' });
      const second = await worker.invokeAsync('charge', { id: 'second' });
      // The first ran and its settlement waits; the second starts meanwhile, on the freed slot.
      await waitFor(() => started.length === 2, { what: 'the second to start before the first settlement is written' });
      expect(heldSettles.length).toBeGreaterThanOrEqual(1);
      expect(await real.get(first.requestId)).toMatchObject({ status: 'Running' });
      // The claim that took the second named the first as ended.
      const named = (r: Parameters<Store['claim']>[0]) => (r.ended ?? []).map((e) => e.requestId);
      expect(requests.some((r) => named(r).includes(first.requestId))).toBe(true);
      expect(most).toBe(1);
      await waitFor(
        async () => {
          heldSettles.splice(0).forEach((release) => release());
          return (await real.list({ limit: 10 })).items.every((r) => r.status === 'Succeeded');
        },
        { what: 'both to be settled' },
      );
      // Once written, an attempt is no longer named as ended.
      await worker.idle();
      const after = requests.length;
      await worker.invokeAsync('charge', { id: 'third' });
      await waitFor(() => started.length === 3, { what: 'the third to start' });
      const namedLater = requests.slice(after).flatMap(named);
      expect(namedLater).not.toContain(first.requestId);
      expect(namedLater).not.toContain(second.requestId);
      expect(requests.length).toBeGreaterThan(after);
    } finally {
      // Whatever happened, let every settlement through so close() can finish.
      const drain = setInterval(() => heldSettles.splice(0).forEach((release) => release()), 1);
      await worker.close();
      clearInterval(drain);
    }
  });
});

describe('limits: bad input changes nothing', () => {
  it('refuses invalid limits at register, naming the field, the value and what is allowed', () => {
    const inv = invoker({ store: memoryStore() });
    expect(() => inv.register('a', () => null, { limits: { concurrency: 0 } })).toThrow(/limits\.concurrency/);
    expect(() => inv.register('b', () => null, { limits: { groupConcurrency: 2 } as never })).toThrow(/groupConcurrency.*groupBy/);
    expect(() => inv.register('c', () => null, { limits: { perSecond: 1.5 } })).toThrow(InvalidArgumentError);
    expect(inv.functions()).toEqual([]);
  });

  it('refuses a payload whose groupBy throws or gives no usable key, and enqueues nothing', async () => {
    const inv = invoker({ store: memoryStore(), concurrency: 0 });
    inv.register('g', () => null, { limits: { groupBy: (p: { tenant?: string }) => p.tenant! } });
    await expect(inv.invokeAsync('g', {})).rejects.toThrow(/limits\.groupBy is a string of 1 to 256 characters \(it gave undefined\)/);
    inv.register('h', () => null, { limits: { groupBy: () => { throw new Error('no tenant'); } } });
    await expect(inv.invokeAsync('h', { x: 1 })).rejects.toThrow(/it threw: no tenant/);
    expect((await inv.listInvocations()).items).toEqual([]);
  });
});

describe('limits: processes that disagree', () => {
  it('warns once, naming both settings, when live workers registered a function with other limits', async () => {
    const store = memoryStore();
    const a = invoker({ store, concurrency: 2 });
    const b = invoker({ store, concurrency: 2 });
    const warnings: WarningEvent[] = [];
    a.on('warning', (w) => warnings.push(w));
    a.register('charge', () => null, { limits: { concurrency: 10, perSecond: 50 } });
    a.register('same', () => null, { limits: { concurrency: 3 } });
    b.register('charge', () => null, { limits: { concurrency: 5 } });
    b.register('same', () => null, { limits: { concurrency: 3 } });
    await waitFor(async () => (await store.workers(Date.now())).filter((w) => w.functions.length === 2).length === 2, { what: 'both presences' });
    await a.queueMetrics();
    await a.queueMetrics();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: 'ConflictingLimits', functionName: 'charge' });
    expect(warnings[0]!.message).toMatch(/limits concurrency 10, perSecond 50 in this process .* but concurrency 5 \(worker /);
    expect(warnings[0]!.code === 'ConflictingLimits' && warnings[0]!.workers.map((w) => w.limits)).toEqual(['concurrency 10, perSecond 50', 'concurrency 5']);
  });

  it('counts a worker without limits for the function as a difference, and says nothing when all agree', async () => {
    const store = memoryStore();
    const a = invoker({ store, concurrency: 1 });
    const b = invoker({ store, concurrency: 1 });
    const warnings: WarningEvent[] = [];
    a.on('warning', (w) => warnings.push(w));
    b.on('warning', (w) => warnings.push(w));
    a.register('plain', () => null);
    b.register('plain', () => null);
    a.register('limited', () => null, { limits: { perSecond: 5 } });
    b.register('limited', () => null);
    await waitFor(async () => (await store.workers(Date.now())).filter((w) => w.functions.length === 2).length === 2, { what: 'both presences' });
    await a.queueMetrics();
    await b.queueMetrics();
    // One warning per process (store) and function: only 'limited', and only once.
    expect(warnings.map((w) => [w.code, w.functionName])).toEqual([['ConflictingLimits', 'limited']]);
  });
});
