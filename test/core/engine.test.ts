/**
 * The engine's guarantees (issue "nothing stranded"): a capped function never starves, idle()
 * means nothing runnable is due, system errors do not spend the user's retries, retries report
 * their own condition, a synchronous throw never leaks a slot, handlers see a small context.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sqliteStore } from '../../src/stores/sqlite/index.js';
import {
  createInvoker,
  fakeClock,
  HandledInvocationError,
  LIMITS,
  memoryStore,
  type Invoker,
  type InvocationRecord,
  type RetryingEvent,
  type Store,
} from '../../src/index.js';
import type { Clock } from '../../src/clock.js';
import { functionConfigSchema, invokerOptionsSchema } from '../../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'async-invoker-engine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
let open: Invoker[] = [];
afterEach(async () => {
  await Promise.all(open.map((i) => i.close({ timeoutSeconds: 1 })));
  open = [];
});

const stores: [string, () => Store][] = [
  ['memory', () => memoryStore()],
  ['sqlite', () => sqliteStore({ path: join(dir, `engine-${files++}.db`) })],
];

async function all(invoker: Invoker, ids: readonly string[]): Promise<InvocationRecord[]> {
  return Promise.all(ids.map(async (id) => (await invoker.getInvocation(id))!));
}

describe.each(stores)('fairness on the %s store', (_name, makeStore) => {
  it('a function at its cap is not starved by an uncapped one, and idle() waits for it', async () => {
    const invoker = createInvoker({ store: makeStore(), concurrency: 4 });
    open.push(invoker);
    let running = 0;
    let most = 0;
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    invoker.register('f', async () => {
      most = Math.max(most, ++running);
      // Slower than g: f sits at its cap when g's work runs out (where the old engine stalled).
      await new Promise((resolve) => setTimeout(resolve, 2));
      running--;
      return 'f';
    }, { concurrency: 2 });
    invoker.register('g', async () => {
      await tick();
      return 'g';
    });
    const ids = await Promise.all(
      Array.from({ length: 200 }, (_, i) => invoker.invokeAsync(i % 2 ? 'f' : 'g', { i }).then((r) => r.requestId)),
    );
    await invoker.idle();
    const records = await all(invoker, ids);
    expect(records.filter((r) => r.status !== 'Succeeded').map((r) => `${r.functionName}:${r.status}`)).toEqual([]);
    expect(most).toBe(2);
  });
});

describe('system errors do not spend the user\'s retries', () => {
  it('an attempt lost to a dead worker is retried even with maxAsyncRetryAttempts 0', async () => {
    const clock = fakeClock();
    const store = memoryStore();
    const producer = createInvoker({ store, clock, concurrency: 0 });
    open.push(producer);
    producer.register('once', () => null);
    const { requestId } = await producer.invokeAsync('once', {});
    // A worker claims it and dies.
    await store.claim({ now: clock.now(), leaseMs: 1000, limit: 1, slots: [{ functionName: 'once', limit: 1, maxEventAgeMs: 86_400_000 }] });
    const survivor = createInvoker({ store, clock, leaseSeconds: 1 });
    open.push(survivor);
    survivor.register('once', () => 'ran', { maxAsyncRetryAttempts: 0, retryBackoff: { initialDelayMs: 100, jitter: 'none' } });
    await clock.advance(1000);
    await clock.advance(100);
    await survivor.idle();
    expect(await survivor.getInvocation(requestId)).toMatchObject({ status: 'Succeeded', attempts: 2, result: 'ran' });
  });

  it('an attempt interrupted by close() is retried without spending an attempt', async () => {
    const clock = fakeClock();
    const store = memoryStore();
    const observer = createInvoker({ store, clock, concurrency: 0 });
    open.push(observer);
    const first = createInvoker({ store, clock });
    first.register('slow', () => new Promise<null>(() => {}), { maxAsyncRetryAttempts: 0 });
    const { requestId } = await first.invokeAsync('slow', {});
    await clock.advance(0);
    const closing = first.close({ timeoutSeconds: 1 });
    await clock.advance(1000);
    await closing;
    const next = createInvoker({ store, clock });
    open.push(next);
    next.register('slow', () => 'done', { maxAsyncRetryAttempts: 0 });
    await clock.advance(0);
    await next.idle();
    const record = (await observer.getInvocation(requestId))!;
    expect(record).toMatchObject({ status: 'Succeeded', attempts: 2 });
    expect(record.events.find((e) => e.status === 'Retrying')!.detail).toMatch(/^WorkerShutdown: /);
  });
});

describe('events', () => {
  it('a retry reports the condition of the error that caused it', async () => {
    const clock = fakeClock();
    const invoker = createInvoker({ store: memoryStore(), clock });
    open.push(invoker);
    const retries: RetryingEvent[] = [];
    invoker.on('retrying', (e) => retries.push(e));
    invoker.register('picky', (_p, ctx) => {
      if (ctx.attempt === 1) throw new HandledInvocationError('handled');
      if (ctx.attempt === 2) throw new Error('unhandled');
      return 'ok';
    }, { retryBackoff: { initialDelayMs: 10, jitter: 'none' } });
    await invoker.invokeAsync('picky', {});
    await clock.advance(0);
    await clock.advance(10);
    await clock.advance(20);
    await invoker.idle();
    expect(retries.map((r) => r.condition)).toEqual(['HandledInvocationError', 'UnhandledInvocationError']);
  });
});

describe('robustness', () => {
  it('a synchronous throw while processing a claimed batch reports it and never leaks the slot', async () => {
    const clock = fakeClock();
    const store = memoryStore();
    const invoker = createInvoker({ store, clock, concurrency: 1 });
    open.push(invoker);
    const errors: string[] = [];
    invoker.on('error', (e) => errors.push(e.during));
    const immediate = store.immediate!;
    const settle = immediate.settle;
    let failures = 1;
    // A store that throws once, synchronously, while the first attempt is being written.
    (immediate as { settle: typeof settle }).settle = (items) => {
      if (failures-- > 0) throw new Error('store fault');
      return settle(items);
    };
    let runs = 0;
    invoker.register('sync', () => ++runs, { retryBackoff: { initialDelayMs: 10, jitter: 'none' } });
    const ids = await Promise.all([1, 2, 3].map(() => invoker.invokeAsync('sync', {}).then((r) => r.requestId)));
    await clock.advance(0);
    await invoker.idle();
    expect(errors).toContain('process');
    const statuses = (await all(invoker, ids)).map((r) => r.status);
    // Two ran to the end on the one slot; the one whose write failed waits for its lease to lapse.
    expect(statuses.filter((s) => s === 'Succeeded')).toHaveLength(2);
    await clock.advance(30_000);
    await clock.advance(1000);
    await invoker.idle();
    expect((await all(invoker, ids)).map((r) => r.status)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
  });

  it('a synchronous throw after the attempt took its lease stops renewing it: the invocation is recovered, not stranded', async () => {
    const clock = fakeClock();
    // Injected code that fails once, as the attempt arms its function's 7-second deadline:
    // after the lease is held, before the handler runs.
    let failures = 1;
    const faulty: Clock = {
      now: () => clock.now(),
      clearTimeout: (handle) => clock.clearTimeout(handle),
      setTimeout: (fn, ms) => {
        if (ms === 7000 && failures-- > 0) throw new Error('clock fault');
        return clock.setTimeout(fn, ms);
      },
    };
    const invoker = createInvoker({ store: memoryStore(), clock: faulty, concurrency: 1 });
    open.push(invoker);
    const errors: string[] = [];
    invoker.on('error', (e) => errors.push(e.during));
    let runs = 0;
    invoker.register('timed', () => ++runs, { timeoutSeconds: 7 });
    const { requestId } = await invoker.invokeAsync('timed', {});
    await clock.advance(0);
    expect(errors).toEqual(['process']);
    expect(runs).toBe(0);
    // Its lease is no longer renewed: once it lapses, the next claim recovers the invocation
    // (a lost worker, not one of its attempts) and runs it. Renewed, it would stay Running.
    await clock.advance(30_000);
    await clock.advance(1000);
    await invoker.idle();
    expect(runs).toBe(1);
    expect(await invoker.getInvocation(requestId)).toMatchObject({ status: 'Succeeded', result: 1 });
  });

  it('handlers get a small context: request id, function, attempt, signal, log — nothing internal', async () => {
    const clock = fakeClock();
    const invoker = createInvoker({ store: memoryStore(), clock });
    open.push(invoker);
    let keys: string[] = [];
    let signal: AbortSignal | undefined;
    invoker.register('peek', (_p, ctx) => {
      keys = Object.keys(ctx).concat(Object.getOwnPropertyNames(Object.getPrototypeOf(ctx))).filter((k) => k !== 'constructor');
      signal = ctx.signal;
      return null;
    });
    await invoker.invokeAsync('peek', {});
    await clock.advance(0);
    await invoker.idle();
    expect(new Set(keys)).toEqual(new Set(['requestId', 'functionName', 'attempt', 'signal', 'log']));
    expect(signal).toBeInstanceOf(AbortSignal);
  });
});

describe('limits', () => {
  it('LIMITS is what the schemas accept, at both ends', () => {
    const fn = (config: object) => functionConfigSchema.safeParse(config).success;
    const inv = (config: object) => invokerOptionsSchema.safeParse({ store: memoryStore(), ...config }).success;
    expect(fn({ timeoutSeconds: LIMITS.timeoutSeconds.min })).toBe(true);
    expect(fn({ timeoutSeconds: LIMITS.timeoutSeconds.min / 2 })).toBe(false);
    expect(fn({ timeoutSeconds: LIMITS.timeoutSeconds.max })).toBe(true);
    expect(fn({ timeoutSeconds: LIMITS.timeoutSeconds.max + 1 })).toBe(false);
    expect(fn({ maxLostAttempts: LIMITS.maxLostAttempts.max })).toBe(true);
    expect(fn({ maxLostAttempts: LIMITS.maxLostAttempts.max + 1 })).toBe(false);
    expect(inv({ leaseSeconds: LIMITS.leaseSeconds.min })).toBe(true);
    expect(inv({ leaseSeconds: LIMITS.leaseSeconds.min / 2 })).toBe(false);
    expect(inv({ claimBatchSize: LIMITS.claimBatchSize.max + 1 })).toBe(false);
  });

  it('memoryStore validates its options, naming the field', () => {
    expect(() => memoryStore({ retention: { maxCount: -1 } })).toThrow(/memoryStore options\.retention\.maxCount must be an integer from 0/);
    expect(() => memoryStore({ nope: 1 } as object)).toThrow(/memoryStore options\.nope/);
  });
});
