/**
 * Operating it (issue "Operate it"): execution logs (ctx.log, bounds, tailing, the log event),
 * lookup by invocation id and prefix, linked re-runs, and the functions' effective config.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createInvoker,
  DURATION_BUCKETS_MS,
  fakeClock,
  histogramPercentile,
  InvocationNotFinalError,
  InvocationNotFoundError,
  memoryStore,
  type Invoker,
  type LogEvent,
  type Store,
} from '../../src/index.js';

let open: Invoker[] = [];
afterEach(async () => {
  await Promise.all(open.map((i) => i.close({ timeoutSeconds: 1 })));
  open = [];
});

function counting(store: Store): { store: Store; appends: () => number } {
  let appends = 0;
  const append = store.appendLogs.bind(store);
  store.appendLogs = (items) => {
    appends++;
    return append(items);
  };
  return { store, appends: () => appends };
}

describe('execution logs', () => {
  it('keeps ctx.log lines with the invocation, written in one batch, not one store write per line', async () => {
    const clock = fakeClock();
    const { store, appends } = counting(memoryStore());
    const invoker = createInvoker({ store, clock });
    open.push(invoker);
    const events: LogEvent[] = [];
    invoker.on('log', (e) => events.push(e));
    invoker.register('chatty', (_p, ctx) => {
      for (let i = 0; i < 100; i++) ctx.log.info(`step ${i}`, { i });
      ctx.log.warn('almost done');
      ctx.log.error('not really', { code: 'E1' });
      return null;
    });
    const { requestId } = await invoker.invokeAsync('chatty', {});
    await clock.advance(0);
    await invoker.idle();
    expect(appends()).toBe(1);
    const page = await invoker.getInvocationLogs(requestId);
    expect(page.lines).toHaveLength(102);
    expect(page.lines[0]).toMatchObject({ seq: 1, attempt: 1, level: 'info', message: 'step 0', data: { i: 0 } });
    expect(page.lines.at(-1)).toMatchObject({ seq: 102, level: 'error', message: 'not really', data: { code: 'E1' } });
    expect(page.nextCursor).toBe(102);
    expect(page.dropped).toBe(0);
    expect(events).toHaveLength(102);
    expect(events[101]).toMatchObject({ requestId, functionName: 'chatty', attempt: 1, level: 'error', message: 'not really' });
  });

  it('tails a running invocation: lines are written every second while it runs', async () => {
    const clock = fakeClock();
    const invoker = createInvoker({ store: memoryStore(), clock });
    open.push(invoker);
    let finish!: () => void;
    invoker.register('long', async (_p, ctx) => {
      ctx.log.info('started');
      await new Promise<void>((resolve) => (finish = resolve));
      ctx.log.info('finished');
      return null;
    });
    const { requestId } = await invoker.invokeAsync('long', {});
    await clock.advance(0);
    expect((await invoker.getInvocationLogs(requestId)).lines).toEqual([]);
    await clock.advance(1000);
    const first = await invoker.getInvocationLogs(requestId);
    expect(first.lines.map((l) => l.message)).toEqual(['started']);
    finish();
    await invoker.idle();
    const next = await invoker.getInvocationLogs(requestId, { after: first.nextCursor });
    expect(next.lines.map((l) => l.message)).toEqual(['finished']);
    expect(next.nextCursor).toBe(2);
    expect((await invoker.getInvocationLogs(requestId, { after: next.nextCursor })).lines).toEqual([]);
  });

  it('keeps the newest lines within the function\'s bounds, with one marker line saying how many went', async () => {
    const clock = fakeClock();
    const invoker = createInvoker({ store: memoryStore(), clock });
    open.push(invoker);
    invoker.register('noisy', (_p, ctx) => {
      for (let i = 0; i < 12; i++) ctx.log.info(`line ${i}`);
      return null;
    }, { logs: { maxLines: 5 } });
    const { requestId } = await invoker.invokeAsync('noisy', {});
    await clock.advance(0);
    await invoker.idle();
    const page = await invoker.getInvocationLogs(requestId);
    expect(page.dropped).toBe(7);
    expect(page.lines.map((l) => l.message)).toEqual([
      '7 earlier lines were dropped to keep the log within its bounds (logs.maxLines, logs.maxBytes)',
      'line 7', 'line 8', 'line 9', 'line 10', 'line 11',
    ]);
    expect(page.lines[0]).toMatchObject({ seq: 0, level: 'warn', dropped: 7 });
  });

  it('a log call never throws: odd messages and data are recorded as text, over-long lines are cut', async () => {
    const clock = fakeClock();
    const invoker = createInvoker({ store: memoryStore(), clock });
    open.push(invoker);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    invoker.register('odd', (_p, ctx) => {
      ctx.log.info(42 as unknown as string, { big: 10n });
      ctx.log.warn('cycle', cycle);
      ctx.log.error('fn', () => 1);
      return 'ok';
    });
    invoker.register('long', (_p, ctx) => {
      ctx.log.info('é'.repeat(5000));
      return 'ok';
    }, { logs: { maxBytes: 1024 } });
    const { requestId } = await invoker.invokeAsync('odd', {});
    const long = await invoker.invokeAsync('long', {});
    await clock.advance(0);
    await invoker.idle();
    expect(await invoker.getInvocation(requestId)).toMatchObject({ status: 'Succeeded', result: 'ok' });
    const lines = (await invoker.getInvocationLogs(requestId)).lines;
    expect(lines[0]).toMatchObject({ message: '42', data: { big: '10' } });
    expect(lines[1]).toMatchObject({ message: 'cycle', data: '[object Object]' });
    expect(lines[2]).toMatchObject({ message: 'fn' });
    // One line never exceeds the bound: it is cut (on a character boundary) and marked.
    const [cut] = (await invoker.getInvocationLogs(long.requestId)).lines;
    expect(Buffer.byteLength(cut!.message)).toBeLessThanOrEqual(1024);
    expect(cut!.message).toMatch(/^é+…$/);
  });

  it('refuses logs of an unknown invocation and bad cursors, naming the field', async () => {
    const invoker = createInvoker({ store: memoryStore(), concurrency: 0 });
    open.push(invoker);
    await expect(invoker.getInvocationLogs('nope')).rejects.toBeInstanceOf(InvocationNotFoundError);
    await expect(invoker.getInvocationLogs('nope', { after: -1 })).rejects.toThrow(/options\.after must be an integer from 0/);
  });
});

describe('lookup, re-runs and the functions', () => {
  it('finds an invocation by its function and invocationId, and lists by invocationId prefix', async () => {
    const clock = fakeClock();
    const invoker = createInvoker({ store: memoryStore(), clock, concurrency: 0 });
    open.push(invoker);
    invoker.register('order', () => null);
    const a = await invoker.invokeAsync('order', { n: 1 }, { invocationId: 'order_2026_001' });
    await clock.advance(1);
    await invoker.invokeAsync('order', { n: 2 }, { invocationId: 'order_2026_002' });
    await invoker.invokeAsync('order', { n: 3 }, { invocationId: 'refund_2026_001' });
    expect((await invoker.findInvocation('order', 'order_2026_001'))?.requestId).toBe(a.requestId);
    expect(await invoker.findInvocation('order', 'order_2026_999')).toBeUndefined();
    const listed = await invoker.listInvocations({ invocationIdPrefix: 'order_2026' });
    expect(listed.items.map((r) => r.invocationId)).toEqual(['order_2026_002', 'order_2026_001']);
    await expect(invoker.listInvocations({ invocationIdPrefix: 'a%' })).rejects.toThrow(/options\.invocationIdPrefix/);
    await expect(invoker.findInvocation('order', 'bad id')).rejects.toThrow(/invocationId must be/);
  });

  it('re-runs only finished invocations; the re-run carries rerunOf and not the invocationId', async () => {
    const clock = fakeClock();
    const invoker = createInvoker({ store: memoryStore(), clock });
    open.push(invoker);
    let release!: () => void;
    invoker.register('job', () => new Promise<string>((resolve) => (release = () => resolve('done'))));
    const first = await invoker.invokeAsync('job', { n: 1 }, { invocationId: 'job_1' });
    await clock.advance(0);
    const refused = await invoker.rerunInvocation(first.requestId).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvocationNotFinalError);
    expect((refused as Error).message).toMatch(/is Running; only a finished invocation/);
    release();
    await invoker.idle();
    const again = await invoker.rerunInvocation(first.requestId);
    const record = (await invoker.getInvocation(again.requestId))!;
    expect(record).toMatchObject({ rerunOf: first.requestId, payload: { n: 1 } });
    expect(record.invocationId).toBeUndefined();
    expect(record.events[0]).toMatchObject({ status: 'Enqueued', detail: `rerun of ${first.requestId}` });
  });

  it('lists the registered functions with their effective configuration', () => {
    const invoker = createInvoker({ store: memoryStore(), concurrency: 0 });
    open.push(invoker);
    invoker.register('notify', () => null);
    invoker.register('transcode', () => null, {
      timeoutSeconds: 600,
      concurrency: 4,
      destinations: { onSuccess: { function: 'notify' }, onFailure: async function alert() {} },
      logs: { maxLines: 50 },
    });
    const [notify, transcode] = invoker.functions();
    expect(notify).toMatchObject({ name: 'notify', maxAsyncRetryAttempts: 3, maxAsyncEventAgeInSeconds: 86_400, destinations: {} });
    expect(transcode).toEqual({
      name: 'transcode',
      maxAsyncRetryAttempts: 3,
      maxAsyncEventAgeInSeconds: 86_400,
      maxLostAttempts: 3,
      timeoutSeconds: 600,
      concurrency: 4,
      retryBackoff: { initialDelayMs: 1000, multiplier: 2, maxDelayMs: 300_000, jitter: 'full' },
      destinations: { onSuccess: 'function notify', onFailure: 'callback alert' },
      logs: { maxLines: 50, maxBytes: 65_536 },
      captureConsole: false,
      payloadSchema: false,
      resultSchema: false,
    });
    expect(JSON.parse(JSON.stringify(invoker.functions()))).toEqual(invoker.functions());
  });
});

describe('activity (the dashboard\'s charts)', () => {
  it('counts outcomes and histograms every attempt\'s queue wait and run time, per function and minute', async () => {
    const clock = fakeClock(Date.UTC(2026, 0, 1, 12, 0, 0));
    const store = memoryStore();
    const invoker = createInvoker({ store, clock });
    open.push(invoker);
    invoker.register('work', async (p: { fail: boolean; ms: number }) => {
      await new Promise<void>((resolve) => clock.setTimeout(resolve, p.ms));
      if (p.fail) throw new Error('no');
      return null;
    }, { maxAsyncRetryAttempts: 1, retryBackoff: { initialDelayMs: 1000, jitter: 'none' } });
    await invoker.invokeAsync('work', { fail: false, ms: 30 });
    await invoker.invokeAsync('work', { fail: false, ms: 3000 }, { delaySeconds: 1 });
    await invoker.invokeAsync('work', { fail: true, ms: 1 });
    const waiting = await invoker.invokeAsync('work', { fail: false, ms: 1 }, { delaySeconds: 600 });
    await invoker.stopInvocation(waiting.requestId);
    for (let i = 0; i < 10; i++) await clock.advance(1000);
    await invoker.idle();
    await clock.advance(10_000); // the recorder writes every 10 s
    const entries = await invoker.activity();
    const total = (key: 'wait' | 'run') => entries.reduce((n, e) => n + e[key].reduce((a, b) => a + b, 0), 0);
    const finished = entries.reduce<Record<string, number>>((acc, e) => {
      for (const [s, n] of Object.entries(e.finished)) acc[s] = (acc[s] ?? 0) + n;
      return acc;
    }, {});
    expect(finished).toEqual({ Succeeded: 2, Failed: 1, Stopped: 1 });
    // Four attempts ran: two successes, a failure and its retry.
    expect(total('wait')).toBe(4);
    expect(total('run')).toBe(4);
    const runs = entries.flatMap((e) => e.run.flatMap((n, i) => Array.from({ length: n }, () => i)));
    expect(Math.max(...runs)).toBe(DURATION_BUCKETS_MS.findIndex((b) => b >= 3000));
    expect(entries.every((e) => e.functionName === 'work' && e.minute % 60_000 === 0)).toBe(true);
    await expect(invoker.activity({ since: -1 })).rejects.toThrow(/query\.since/);
  });

  it('reads percentiles off a histogram', () => {
    const h = new Array<number>(DURATION_BUCKETS_MS.length + 1).fill(0);
    expect(histogramPercentile(h, 0.5)).toBeUndefined();
    h[0] = 50; // 50 at ≤ 5 ms
    h[4] = 50; // 50 in (50, 100] ms
    expect(histogramPercentile(h, 0.5)).toBe(5);
    expect(histogramPercentile(h, 0.95)).toBe(95);
    h[h.length - 1] = 100; // the open bucket reports its lower bound
    expect(histogramPercentile(h, 0.99)).toBe(DURATION_BUCKETS_MS.at(-1));
  });
});
