import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createInvoker,
  DestinationCycleError,
  fakeClock,
  httpDestination,
  memoryStore,
  NonRetryableError,
  signBody,
  type Destination,
  type DestinationRecord,
  type Invoker,
} from '../../src/index.js';
import { waitFor } from '../helpers.js';

/** The test webhooks listen on loopback, which httpDestination refuses unless allowed. */
const LOCAL = { allowPrivateNetwork: true } as const;

let open: Invoker[] = [];
let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(open.map((i) => i.close({ timeoutSeconds: 1 })));
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  open = [];
  servers = [];
});

function setup(options: { maxDestinationHops?: number } = {}) {
  const clock = fakeClock();
  const invoker = createInvoker({ store: memoryStore(), clock, ...options });
  open.push(invoker);
  return { clock, invoker };
}

async function settleAll(invoker: Invoker, clock: ReturnType<typeof fakeClock>, ms = 0) {
  await clock.advance(ms);
  await invoker.idle();
}

interface Received { headers: IncomingMessage['headers']; body: string; path: string }
async function webhook(answer: (n: number, req: IncomingMessage) => { status: number; location?: string }) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body, path: req.url ?? '' });
      const { status, location } = answer(received.length, req);
      res.writeHead(status, location ? { location } : {});
      res.end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received };
}

describe('destination records', () => {
  it('onSuccess gets Function Compute\'s record shape with the result', async () => {
    const { invoker, clock } = setup();
    const records: DestinationRecord[] = [];
    invoker.register('resize', (p) => ({ width: (p as { w: number }).w / 2 }), {
      destinations: { onSuccess: async (record) => void records.push(record) },
    });
    const { requestId } = await invoker.invokeAsync('resize', { w: 640 });
    await settleAll(invoker, clock);
    const ended = (await invoker.getInvocation(requestId))!.endedAt;
    expect(records).toEqual([
      {
        timestamp: ended,
        requestContext: { requestId, functionArn: 'functions/resize', condition: '', approximateInvokeCount: 1 },
        requestPayload: { w: 640 },
        responseContext: { statusCode: 200, functionError: '' },
        responsePayload: { width: 320 },
      },
    ]);
    expect(invoker.metrics().functions.resize!.FunctionDestinationSucceed).toBe(1);
    const events = (await invoker.getInvocation(requestId))!.events;
    expect(events.at(-1)!.detail).toBe('onSuccess delivered (delivery attempt 1)');
  });

  it('onFailure is told of every final failure, with its condition', async () => {
    const { invoker, clock } = setup();
    const got: DestinationRecord[] = [];
    const onFailure = (r: DestinationRecord) => void got.push(r);
    const quick = { initialDelayMs: 10, multiplier: 1, maxDelayMs: 10, jitter: 'none' } as const;
    invoker.register('crash', () => { throw new Error('kaput'); }, { maxAsyncRetryAttempts: 1, retryBackoff: quick, destinations: { onFailure } });
    invoker.register('refuse', () => { throw new NonRetryableError('no'); }, { destinations: { onFailure } });
    invoker.register('hang', (_p, ctx) => new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r())), { destinations: { onFailure } });
    const crash = await invoker.invokeAsync('crash', { a: 1 });
    const refuse = await invoker.invokeAsync('refuse', { b: 2 });
    const hang = await invoker.invokeAsync('hang', { c: 3 });
    const producer = createInvoker({ store: invoker.store, clock, concurrency: 0 });
    open.push(producer);
    producer.register('old', () => {}, { maxAsyncEventAgeInSeconds: 1 });
    const old = (await producer.invokeAsync('old', { d: 4 })).requestId;
    await clock.advance(100); // 'hang' is running now (idle() would wait for it)
    await invoker.stopInvocation(hang.requestId);
    await settleAll(invoker, clock);
    // Expiry: the function's worker comes up after the event's age has passed.
    await clock.advance(2000);
    invoker.register('old', () => {}, { maxAsyncEventAgeInSeconds: 1, destinations: { onFailure } });
    await settleAll(invoker, clock);
    const byId = new Map(got.map((r) => [r.requestContext.requestId, r]));
    expect(byId.get(crash.requestId)).toMatchObject({
      requestContext: { condition: 'UnhandledInvocationError', approximateInvokeCount: 2, functionArn: 'functions/crash' },
      requestPayload: { a: 1 },
      responseContext: { statusCode: 200, functionError: 'UnhandledInvocationError' },
      responsePayload: { errorType: 'Error', errorMessage: 'kaput' },
    });
    expect(byId.get(refuse.requestId)).toMatchObject({ requestContext: { condition: 'HandledInvocationError', approximateInvokeCount: 1 }, responsePayload: { errorType: 'NonRetryableError' } });
    expect(byId.get(hang.requestId)).toMatchObject({ requestContext: { condition: 'Stopped' }, responsePayload: { errorType: 'Stopped' } });
    expect(byId.get(old)).toMatchObject({ requestContext: { condition: 'AsyncEventExpiredDropped', approximateInvokeCount: 0 }, responsePayload: { errorType: 'AsyncEventExpiredDropped' } });
  });

  it('a stopped invocation that never ran still goes to onFailure', async () => {
    const { invoker, clock } = setup();
    const got: DestinationRecord[] = [];
    invoker.register('later', () => {}, { destinations: { onFailure: (r) => void got.push(r) } });
    const { requestId } = await invoker.invokeAsync('later', {}, { delaySeconds: 600 });
    await invoker.stopInvocation(requestId);
    await settleAll(invoker, clock);
    expect(got).toHaveLength(1);
    expect(got[0]!.requestContext).toMatchObject({ requestId, condition: 'Stopped', approximateInvokeCount: 0 });
  });
});

describe('targets', () => {
  it('{ function } invokes another registered function with the record as payload', async () => {
    const { invoker, clock } = setup();
    const notified: DestinationRecord[] = [];
    invoker.register('notify', (record) => void notified.push(record as unknown as DestinationRecord));
    invoker.register('work', () => 'done', { destinations: { onSuccess: { function: 'notify' } } });
    const { requestId } = await invoker.invokeAsync('work', { job: 7 });
    await settleAll(invoker, clock);
    await settleAll(invoker, clock);
    expect(notified).toHaveLength(1);
    expect(notified[0]!.requestContext.requestId).toBe(requestId);
    expect(notified[0]!.responsePayload).toBe('done');
    const notifyRuns = await invoker.listInvocations({ functionName: 'notify' });
    expect(notifyRuns.items[0]!.invocationId).toBe(`dst_${requestId}`);
  });

  it('any object implementing Destination', async () => {
    const { invoker, clock } = setup();
    const sent: string[] = [];
    const bus: Destination = { description: 'bus', send: (record, ctx) => void sent.push(`${ctx.target}:${ctx.attempt}:${record.requestContext.requestId}`) };
    invoker.register('x', () => 1, { destinations: { onSuccess: bus } });
    const { requestId } = await invoker.invokeAsync('x', {});
    await settleAll(invoker, clock);
    expect(sent).toEqual([`onSuccess:1:${requestId}`]);
  });

  it('a throwing callback is retried with backoff from 500 ms', async () => {
    const { invoker, clock } = setup();
    const tries: number[] = [];
    const failed: boolean[] = [];
    invoker.on('destination:failed', (e) => failed.push(e.willRetry));
    invoker.register('y', () => 1, {
      destinations: {
        onSuccess: () => {
          tries.push(clock.now());
          if (tries.length < 3) throw new Error('queue down');
        },
      },
    });
    const { requestId } = await invoker.invokeAsync('y', {});
    await settleAll(invoker, clock);
    await settleAll(invoker, clock, 500);
    await settleAll(invoker, clock, 1000);
    expect(tries.slice(1).map((t, i) => t - tries[i]!)).toEqual([500, 1000]);
    expect(failed).toEqual([true, true]);
    const details = (await invoker.getInvocation(requestId))!.events.map((e) => e.detail ?? '');
    expect(details.filter((d) => d.includes('delivery attempt'))).toHaveLength(3);
    expect(invoker.metrics().functions.y).toMatchObject({ FunctionDestinationSucceed: 1, FunctionDestinationErrors: 0 });
  });
});

describe('httpDestination against a real server', () => {
  it('POSTs JSON with a user-agent and an HMAC signature the receiver can check', async () => {
    const hook = await webhook(() => ({ status: 204 }));
    const { invoker, clock } = setup();
    invoker.register('sign', () => ({ ok: true }), {
      destinations: { onSuccess: httpDestination(`${hook.url}/hooks/done`, { secret: 's3cret', headers: { authorization: 'Bearer t' }, allowPrivateNetwork: true }) },
    });
    await invoker.invokeAsync('sign', {});
    await clock.advance(0);
    await waitFor(() => hook.received.length === 1, { what: 'the webhook call' });
    await invoker.idle();
    const [call] = hook.received;
    expect(call!.path).toBe('/hooks/done');
    expect(call!.headers['content-type']).toBe('application/json');
    expect(call!.headers['user-agent']).toMatch(/^async-invoker\//);
    expect(call!.headers.authorization).toBe('Bearer t');
    expect(call!.headers['x-async-invoker-signature']).toBe(signBody(call!.body, 's3cret'));
    expect(JSON.parse(call!.body).responsePayload).toEqual({ ok: true });
  });

  it('retries 5xx with backoff and records a 4xx without retrying', async () => {
    const flaky = await webhook((n) => ({ status: n < 3 ? 503 : 200 }));
    const refusing = await webhook(() => ({ status: 400 }));
    const { invoker, clock } = setup();
    const outcomes: string[] = [];
    invoker.on('destination:succeeded', (e) => outcomes.push(`${e.functionName} ok ${e.deliveryAttempt}`));
    invoker.on('destination:failed', (e) => outcomes.push(`${e.functionName} failed ${e.deliveryAttempt} retry=${e.willRetry}`));
    invoker.register('five', () => 1, { destinations: { onSuccess: httpDestination(flaky.url, LOCAL) } });
    invoker.register('four', () => 1, { destinations: { onSuccess: httpDestination(refusing.url, LOCAL) } });
    await invoker.invokeAsync('five', {});
    const four = await invoker.invokeAsync('four', {});
    await clock.advance(0);
    await waitFor(() => outcomes.length === 2, { what: 'first deliveries' });
    await clock.advance(500);
    await waitFor(() => flaky.received.length === 2 && outcomes.length === 3, { what: 'second delivery' });
    await clock.advance(1000);
    await waitFor(() => outcomes.includes('five ok 3'), { what: 'third delivery' });
    await clock.advance(3_600_000);
    await invoker.idle();
    expect(refusing.received).toHaveLength(1);
    expect(outcomes.filter((o) => o.startsWith('four'))).toEqual(['four failed 1 retry=false']);
    expect(outcomes.filter((o) => o.startsWith('five'))).toEqual(['five failed 1 retry=true', 'five failed 2 retry=true', 'five ok 3']);
    expect(invoker.metrics().functions.four!.FunctionDestinationErrors).toBe(1);
    const last = (await invoker.getInvocation(four.requestId))!.events.at(-1)!;
    expect(last.detail).toMatch(/onSuccess delivery failed for good \(attempt 1\): DestinationDeliveryError: POST .* answered 400/);
  });

  it('gives up after 30 minutes of 5xx', async () => {
    const down = await webhook(() => ({ status: 500 }));
    const { invoker, clock } = setup();
    let final: boolean | undefined;
    invoker.on('destination:failed', (e) => { if (!e.willRetry) final = true; });
    invoker.register('z', () => 1, { destinations: { onSuccess: httpDestination(down.url, LOCAL) } });
    await invoker.invokeAsync('z', {});
    for (let i = 0; i < 40 && !final; i++) {
      await clock.advance(60_000);
      await invoker.idle();
    }
    expect(final).toBe(true);
    expect(down.received.length).toBeGreaterThan(5);
    expect(down.received.length).toBeLessThan(30);
  });

  it('follows a redirect to the same host only', async () => {
    const target = await webhook((n, req) => (req.url === '/old' ? { status: 307, location: '/new' } : { status: 200 }));
    const other = await webhook(() => ({ status: 200 }));
    const offHost = await webhook(() => ({ status: 302, location: `${other.url}/steal` }));
    const { invoker, clock } = setup();
    const failed: string[] = [];
    invoker.on('destination:failed', (e) => failed.push(e.error.errorMessage));
    invoker.register('same', () => 1, { destinations: { onSuccess: httpDestination(`${target.url}/old`, LOCAL) } });
    invoker.register('away', () => 1, { destinations: { onSuccess: httpDestination(offHost.url, LOCAL) } });
    await invoker.invokeAsync('same', {});
    await invoker.invokeAsync('away', {});
    await clock.advance(0);
    await waitFor(() => target.received.length === 2 && failed.length === 1, { what: 'redirect handling' });
    expect(target.received.map((r) => r.path)).toEqual(['/old', '/new']);
    expect(other.received).toHaveLength(0);
    expect(failed[0]).toMatch(/only redirects to the same host are followed/);
  });

  it('gives up on a webhook that does not answer within timeoutMs, and retries it', async () => {
    const silent = createServer(() => {}); // accepts, never answers
    servers.push(silent);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as AddressInfo;
    const { invoker, clock } = setup();
    const failures: string[] = [];
    invoker.on('destination:failed', (e) => failures.push(`${e.willRetry}:${e.error.errorMessage}`));
    invoker.register('t', () => 1, { destinations: { onSuccess: httpDestination(`http://127.0.0.1:${port}/`, { timeoutMs: 50, ...LOCAL }) } });
    await invoker.invokeAsync('t', {});
    await clock.advance(0);
    await waitFor(() => failures.length === 1, { what: 'the timed-out delivery' });
    expect(failures[0]).toMatch(/^true:POST http:\/\/127\.0\.0\.1:\d+\/ failed: no answer within 50 ms$/);
    silent.closeAllConnections();
  });

  it('validates its url and options', () => {
    expect(() => httpDestination('ftp://x')).toThrow(/url must be an http:\/\/ or https:\/\/ URL; received "ftp:\/\/x"/);
    expect(() => httpDestination('http://x', { timeoutMs: 0 })).toThrow(/options\.timeoutMs must be an integer from 1 to 600000; received 0/);
  });
});

describe('safety', () => {
  it('refuses a record over the destination\'s limit, naming the size and the limit', async () => {
    const { invoker, clock } = setup();
    const sent: unknown[] = [];
    const errors: string[] = [];
    invoker.on('destination:failed', (e) => errors.push(`${e.willRetry}:${e.error.errorMessage}`));
    invoker.register('big', () => 'x'.repeat(500), { destinations: { onSuccess: { maxRecordBytes: 300, send: (r) => void sent.push(r) } } });
    await invoker.invokeAsync('big', {});
    await settleAll(invoker, clock);
    expect(sent).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^false:destination record is \d+ bytes; the destination's limit is 300 bytes$/);
  });

  it('refuses destination cycles at register time, naming the cycle', () => {
    const { invoker } = setup();
    invoker.register('a', () => {}, { destinations: { onSuccess: { function: 'b' } } });
    invoker.register('c', () => {}, { destinations: { onFailure: { function: 'a' } } });
    expect(() => invoker.register('b', () => {}, { destinations: { onFailure: { function: 'c' } } })).toThrow(DestinationCycleError);
    expect(() => invoker.register('b', () => {}, { destinations: { onFailure: { function: 'c' } } })).toThrow('destinations form a cycle: b → c → a → b');
    expect(() => invoker.register('self', () => {}, { destinations: { onSuccess: { function: 'self' } } })).toThrow('self → self');
  });

  it('stops a dynamic chain across processes at the hop limit', async () => {
    const clock = fakeClock();
    const store = memoryStore();
    const one = createInvoker({ store, clock, maxDestinationHops: 3 });
    const two = createInvoker({ store, clock, maxDestinationHops: 3 });
    open.push(one, two);
    const runs: string[] = [];
    const hopErrors: string[] = [];
    for (const inv of [one, two]) inv.on('destination:failed', (e) => hopErrors.push(e.error.errorType));
    one.register('ping', () => void runs.push('ping'), { destinations: { onSuccess: { function: 'pong' } } });
    two.register('pong', () => void runs.push('pong'), { destinations: { onSuccess: { function: 'ping' } } });
    await one.invokeAsync('ping', {});
    for (let i = 0; i < 10; i++) {
      await clock.advance(0);
      await one.idle();
      await two.idle();
    }
    expect(runs).toEqual(['ping', 'pong', 'ping', 'pong']);
    expect(hopErrors).toEqual(['DestinationHopLimit']);
  });

  it('delivers after a crash between the handler\'s end and the delivery', async () => {
    const clock = fakeClock();
    const store = memoryStore();
    const producer = createInvoker({ store, clock, concurrency: 0 });
    open.push(producer);
    producer.register('job', () => {});
    const { requestId } = await producer.invokeAsync('job', { n: 1 });
    // A worker ran it and wrote Succeeded with the delivery owed, then died before delivering.
    const [claimed] = (await store.claim({ now: clock.now(), leaseMs: 5000, limit: 1, slots: [{ functionName: 'job', limit: 1, maxEventAgeMs: 1e9 }] })).items;
    await store.settle([{
      requestId, leaseToken: claimed!.leaseToken, status: 'Succeeded', events: [{ at: clock.now(), status: 'Succeeded', attempt: 1 }],
      dueAt: clock.now() + 5000, keepLease: true, endedAt: clock.now(), result: 'made', condition: '',
      delivery: { target: 'onSuccess', status: 'Pending', attempts: 0, since: clock.now() },
    }]);
    const delivered: DestinationRecord[] = [];
    const restarted = createInvoker({ store, clock, leaseSeconds: 5 });
    open.push(restarted);
    restarted.register('job', () => {}, { destinations: { onSuccess: (r) => void delivered.push(r) } });
    await clock.advance(4000);
    await restarted.idle();
    expect(delivered).toEqual([]);
    await clock.advance(1000);
    await restarted.idle();
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.responsePayload).toBe('made');
    expect((await store.get(requestId))!.delivery).toMatchObject({ status: 'Succeeded', attempts: 1 });
  });
});
