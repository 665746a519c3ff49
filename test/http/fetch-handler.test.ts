/** What only the fetch adapter does; the shared suite runs it on Hono over @hono/node-server. */
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { createInvoker, InvalidArgumentError, memoryStore, type Invoker } from '../../src/index.js';
import { asyncTrigger, getReplayContext, type FetchTriggerOptions } from '../../src/http/fetch.js';
import { waitForStatus } from '../helpers.js';

const ASYNC = { 'x-fc-invocation-type': 'Async' };
let invoker: Invoker;
afterEach(async () => {
  await invoker.close();
});

describe('fetch asyncTrigger', () => {
  it('needs a fetch handler', () => {
    invoker = createInvoker({ store: memoryStore() });
    expect(() => asyncTrigger(invoker, {} as FetchTriggerOptions)).toThrow(InvalidArgumentError);
    expect(() => asyncTrigger(invoker, {} as FetchTriggerOptions)).toThrow('options.fetch');
  });

  it("passes the host's further arguments (Hono's env) through with requests it does not take", async () => {
    invoker = createInvoker({ store: memoryStore() });
    const app = new Hono<{ Bindings: { tenant: string } }>();
    app.get('/who', (c) => c.text(c.env.tenant));
    const handler = asyncTrigger(invoker, { fetch: app.fetch });
    const res = await handler(new Request('http://app.test/who'), { tenant: 't1' });
    expect(await res.text()).toBe('t1');
  });

  it('rebuilds the request for the replay: method, URL on the recorded host, headers, body; marked', async () => {
    invoker = createInvoker({ store: memoryStore() });
    const app = new Hono();
    app.put('/items/:id', async (c) =>
      c.json({
        url: c.req.url,
        id: c.req.param('id'),
        body: await c.req.text(),
        type: c.req.header('content-type'),
        requestId: c.req.header('x-fc-request-id'),
        replay: getReplayContext(c.req) ?? null,
      }),
    );
    const handler = asyncTrigger(invoker, { fetch: app.fetch });
    const res = await handler(
      new Request('https://shop.test:8443/items/a%20b?x=1', { method: 'PUT', headers: { ...ASYNC, 'content-type': 'text/plain' }, body: 'hello' }),
    );
    expect(res.status).toBe(202);
    const { requestId } = (await res.json()) as { requestId: string };
    const record = await waitForStatus(invoker, requestId, ['Succeeded']);
    expect(record.payload).toMatchObject({ method: 'PUT', path: '/items/a%20b', query: 'x=1', body: 'hello' });
    expect(record.result).toMatchObject({
      statusCode: 200,
      body: {
        // The scheme is not recorded: the replay is addressed as http to the recorded host.
        url: 'http://shop.test:8443/items/a%20b?x=1',
        id: 'a b',
        body: 'hello',
        type: 'text/plain',
        requestId,
        replay: { requestId, functionName: 'http', attempt: 1 },
      },
    });
  });

  it('answers 500 BodyAlreadyRead for a request whose body was read before the trigger', async () => {
    invoker = createInvoker({ store: memoryStore() });
    const handler = asyncTrigger(invoker, { fetch: () => new Response('sync') });
    const request = new Request('http://app.test/', { method: 'POST', headers: ASYNC, body: 'x' });
    await request.text();
    const res = await handler(request);
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ ErrorCode: 'BodyAlreadyRead', error: { code: 'BodyAlreadyRead' } });
    expect((await invoker.listInvocations()).items).toEqual([]);
  });
});
