/** Redaction: results and log data hidden before they are stored; payloads wherever they are shown. */
import { afterEach, describe, expect, it } from 'vitest';
import { createInvoker, fakeClock, memoryStore, type DestinationRecord, type Invoker, type LogEvent } from '../../src/index.js';

let open: Invoker[] = [];
afterEach(async () => {
  await Promise.all(open.map((i) => i.close({ timeoutSeconds: 1 })));
  open = [];
});

describe('redact paths', () => {
  it('hides results and log data before storing them, and payloads in every view, while the handler sees everything', async () => {
    const clock = fakeClock();
    const store = memoryStore();
    const invoker = createInvoker({ store, clock });
    open.push(invoker);
    const seen: unknown[] = [];
    const records: DestinationRecord[] = [];
    const logs: LogEvent[] = [];
    invoker.on('log', (e) => logs.push(e));
    invoker.register(
      'charge',
      (p: { card: { number: string; holder: string }; items: { sku: string; secret: string }[] }, ctx) => {
        seen.push(p);
        ctx.log.info('charging', { card: p.card.number, password: 'hunter2', amount: 5 });
        return { receipt: 'r-1', token: 'tok_live_abc' };
      },
      {
        redact: ['payload.card.number', 'payload.items.*.secret', 'result.token', 'log.password', 'log.card'],
        destinations: { onSuccess: (record) => void records.push(record) },
      },
    );
    const payload = { card: { number: '4242424242424242', holder: 'Ada' }, items: [{ sku: 'a', secret: 's1' }, { sku: 'b', secret: 's2' }] };
    const { requestId } = await invoker.invokeAsync('charge', payload, { invocationId: 'order_1' });
    await clock.advance(0);
    await invoker.idle();
    // The handler got the real payload; the store keeps it as given (a retry needs it).
    expect(seen).toEqual([payload]);
    expect((await store.get(requestId))!.payload).toEqual(payload);
    // Results and log lines are stored redacted.
    expect((await store.get(requestId))!.result).toEqual({ receipt: 'r-1', token: '[redacted]' });
    const [line] = (await store.readLogs(requestId, 0, 10))!.lines;
    expect(line!.data).toEqual({ card: '[redacted]', password: '[redacted]', amount: 5 });
    expect(logs[0]!.data).toEqual({ card: '[redacted]', password: '[redacted]', amount: 5 });
    // Every view shows the payload redacted.
    const shown = { card: { number: '[redacted]', holder: 'Ada' }, items: [{ sku: 'a', secret: '[redacted]' }, { sku: 'b', secret: '[redacted]' }] };
    expect((await invoker.getInvocation(requestId))!.payload).toEqual(shown);
    expect((await invoker.findInvocation('charge', 'order_1'))!.payload).toEqual(shown);
    expect((await invoker.listInvocations()).items[0]!.payload).toEqual(shown);
    expect(records[0]!.requestPayload).toEqual(shown);
    expect(records[0]!.responsePayload).toEqual({ receipt: 'r-1', token: '[redacted]' });
    // The caller's own object was not changed.
    expect(payload.card.number).toBe('4242424242424242');
  });

  it('takes a function instead of paths', async () => {
    const clock = fakeClock();
    const invoker = createInvoker({ store: memoryStore(), clock });
    open.push(invoker);
    invoker.register('mask', () => 'secret-result', {
      redact: (value, target) => (target === 'payload' ? { masked: true } : typeof value === 'string' ? value.replace(/secret/g, '***') : value),
    });
    const { requestId } = await invoker.invokeAsync('mask', { email: 'ada@example.com' });
    await clock.advance(0);
    await invoker.idle();
    expect(await invoker.getInvocation(requestId)).toMatchObject({ payload: { masked: true }, result: '***-result' });
  });

  it('refuses redact paths outside payload, result and log, naming the field', () => {
    const invoker = createInvoker({ store: memoryStore(), concurrency: 0 });
    open.push(invoker);
    expect(() => invoker.register('bad', () => null, { redact: ['password'] })).toThrow(/config\.redact\.0 must be a list of paths starting with payload\., result\. or log\./);
  });
});

describe('the HTTP trigger\'s recorded requests', () => {
  it('never records Authorization or Cookie unless allowed; allowed and redacted, they still reach the replay', async () => {
    const { createServer } = await import('node:http');
    const { asyncTrigger } = await import('../../src/http/node.js');
    const { waitFor } = await import('../helpers.js');
    const clock = fakeClock();
    const make = (options: Record<string, unknown>) => {
      const invoker = createInvoker({ store: memoryStore(), clock });
      open.push(invoker);
      const replayed: (string | undefined)[][] = [];
      const handler = asyncTrigger(invoker, {
        handler: (req, res) => {
          replayed.push([req.headers.authorization, req.headers.cookie]);
          res.end('ok');
        },
        ...options,
      });
      return { invoker, replayed, handler };
    };
    const plain = make({});
    const allowed = make({ allowHeaders: ['authorization', 'cookie'], redact: ['payload.headers.authorization', 'payload.headers.cookie'] });
    for (const { invoker, replayed, handler } of [plain, allowed]) {
      const server = createServer(handler);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const res = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/x`, {
          headers: { 'x-fc-invocation-type': 'Async', authorization: 'Bearer secret-token', cookie: 'session=abc' },
        });
        const { requestId } = (await res.json()) as { requestId: string };
        await clock.advance(0);
        await waitFor(() => replayed.length === 1, { what: 'the replay' });
        await invoker.idle();
        const headers = ((await invoker.getInvocation(requestId))!.payload as { headers: Record<string, string> }).headers;
        if (invoker === plain.invoker) {
          expect(headers.authorization).toBeUndefined();
          expect(headers.cookie).toBeUndefined();
          expect(replayed[0]).toEqual([undefined, undefined]);
        } else {
          expect(headers).toMatchObject({ authorization: '[redacted]', cookie: '[redacted]' });
          expect(replayed[0]).toEqual(['Bearer secret-token', 'session=abc']);
        }
      } finally {
        server.close();
      }
    }
  });
});
