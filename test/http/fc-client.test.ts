/**
 * Function Compute's own Node SDK (`@alicloud/fc2`) against an Express app with the trigger, on
 * loopback: the SDK's `invokeFunction` with FC's async headers gets FC's answers, and an error
 * reaches it as FC's would (code, message and request id in the SDK's error).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import FCClient from '@alicloud/fc2';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createInvoker, fakeClock, memoryStore, type FakeClock, type Invoker } from '../../src/index.js';
import { asyncTrigger } from '../../src/http/express.js';
import { waitForStatus } from '../helpers.js';

const ASYNC = { 'x-fc-invocation-type': 'Async' };
const REQUEST_ID = /^[A-Za-z0-9_-]{22}$/;

/** What the SDK throws for a non-2xx answer: `name` is `FC<ErrorCode>Error`, `code` the ErrorCode. */
type FcError = Error & { code?: string };

let invoker: Invoker;
let clock: FakeClock;
let server: Server;
let client: FCClient;

beforeEach(async () => {
  clock = fakeClock();
  invoker = createInvoker({ store: memoryStore(), clock });
  const app = express();
  app.use(asyncTrigger(invoker, { app, functionName: 'fc' }));
  // FC's invoke path, served by the app itself: the trigger makes it asynchronous.
  app.post('/2016-08-15/services/:service/functions/:fn/invocations', express.raw({ type: () => true }), (req, res) => {
    res.json({ service: req.params.service, fn: req.params.fn, event: (req.body as Buffer).toString('utf8') });
  });
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new FCClient('1234567890', {
    accessKeyID: 'test-key-id',
    accessKeySecret: 'test-key-secret',
    region: 'cn-hangzhou',
    endpoint: `http://127.0.0.1:${port}`,
  });
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await invoker.close();
});

/** The SDK's rejection for `call`, or a failure if it resolved. */
async function sdkError(call: Promise<unknown>): Promise<FcError> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error as FcError,
  );
  if (!outcome) throw new Error('the SDK call succeeded; an error was expected');
  return outcome;
}

describe('@alicloud/fc2 against the trigger', () => {
  it('async invoke: 202 with x-fc-request-id; the event is replayed into the route', async () => {
    const res = await client.invokeFunction('media', 'resize', 'cat.jpg', ASYNC);
    const requestId = res.headers['x-fc-request-id'] as string;
    expect(requestId).toMatch(REQUEST_ID);
    expect(res.data).toEqual({ requestId });
    const record = await waitForStatus(invoker, requestId, ['Succeeded']);
    expect(record.functionName).toBe('fc');
    expect(record.payload).toMatchObject({ method: 'POST', path: '/2016-08-15/services/media/functions/resize/invocations', body: 'cat.jpg' });
    expect(record.result).toMatchObject({ statusCode: 200, body: { service: 'media', fn: 'resize', event: 'cat.jpg' } });
  });

  it('x-fc-async-delay delays the run (fake clock)', async () => {
    const res = await client.invokeFunction('media', 'resize', 'later.jpg', { ...ASYNC, 'x-fc-async-delay': '30' });
    const requestId = res.headers['x-fc-request-id'] as string;
    const record = await invoker.getInvocation(requestId);
    expect(record).toMatchObject({ status: 'Enqueued', scheduledAt: clock.now() + 30_000 });
    await clock.advance(30_000);
    await waitForStatus(invoker, requestId, ['Succeeded']);
  });

  it('x-fc-stateful-async-invocation-id: a repeat gets the first request id; another event with the id is 409', async () => {
    const headers = { ...ASYNC, 'x-fc-stateful-async-invocation-id': 'order_1001' };
    const first = await client.invokeFunction('shop', 'charge', '{"order":1001}', headers);
    const again = await client.invokeFunction('shop', 'charge', '{"order":1001}', headers);
    const id = first.headers['x-fc-request-id'];
    expect(again.headers['x-fc-request-id']).toBe(id);
    const error = await sdkError(client.invokeFunction('shop', 'charge', '{"order":1002}', headers));
    expect(error.name).toBe('FCIdempotencyConflictError');
    expect(error.code).toBe('IdempotencyConflict');
    expect(error.message).toContain(`failed with 409. requestid: ${String(id)}, message: x-fc-stateful-async-invocation-id "order_1001" was already used`);
    expect((await invoker.listInvocations()).items).toHaveLength(1);
  });

  it('a bad x-fc-async-delay surfaces in the SDK error with its code, message and request id', async () => {
    const error = await sdkError(client.invokeFunction('media', 'resize', 'cat.jpg', { ...ASYNC, 'x-fc-async-delay': '3601' }));
    expect(error.name).toBe('FCInvalidHeaderError');
    expect(error.code).toBe('InvalidHeader');
    const match = /^POST \/services\/media\/functions\/resize\/invocations failed with 400\. requestid: (\S+), message: (.*)\.$/.exec(error.message);
    expect(match, error.message).not.toBeNull();
    expect(match![1]).toMatch(REQUEST_ID);
    expect(match![2]).toBe('x-fc-async-delay must be an integer number of seconds from 0 to 3600; received "3601"');
    expect((await invoker.listInvocations()).items).toEqual([]);
  });
});
