/** Trigger options: validation at creation, header allow-list, body limit, timeouts, misuse. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createInvoker, InvalidArgumentError, memoryStore, type Invoker } from '../../src/index.js';
import * as ex from '../../src/http/express.js';
import * as nd from '../../src/http/node.js';
import { waitFor, waitForStatus } from '../helpers.js';

const ASYNC = { 'x-fc-invocation-type': 'Async' };
let invoker: Invoker;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

function newInvoker(): Invoker {
  invoker = createInvoker({ store: memoryStore(), concurrency: 2 });
  closers.push(() => invoker.close());
  return invoker;
}

async function serve(listener: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const handler = (req: IncomingMessage, res: ServerResponse) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ headers: req.headers, replay: nd.getReplayContext(req) ?? null }));
};

describe('asyncTrigger options', () => {
  it.each([
    [{ bogus: 1 }, 'options.bogus', 'not a known option'],
    [{ maxBodyBytes: 0 }, 'options.maxBodyBytes', 'from 1 to 67108864'],
    [{ functionName: '9x' }, 'options.functionName', 'starts with a letter'],
    [{ headerName: 'bad header' }, 'options.headerName', 'header name'],
    [{ allowHeaders: ['ok', 'not ok'] }, 'options.allowHeaders.1', 'header name'],
    [{ maxAsyncRetryAttempts: 9 }, 'options.maxAsyncRetryAttempts', 'from 0 to 8'],
    [{ retryBackoff: { multiplier: 0 } }, 'options.retryBackoff.multiplier', 'from 1 to 10'],
  ])('refuses %j naming the field, value and what is allowed', (extra, field, allowed) => {
    const inv = newInvoker();
    const make = () => nd.asyncTrigger(inv, { handler, ...(extra as object) });
    expect(make).toThrow(InvalidArgumentError);
    expect(make).toThrow(field);
    expect(make).toThrow(allowed);
  });

  it('needs the app or handler, and one trigger per function name', () => {
    const inv = newInvoker();
    expect(() => ex.asyncTrigger(inv, {} as ex.ExpressTriggerOptions)).toThrow('options.app');
    expect(() => nd.asyncTrigger(inv, {} as nd.NodeTriggerOptions)).toThrow('options.handler');
    nd.asyncTrigger(inv, { handler });
    expect(() => nd.asyncTrigger(inv, { handler })).toThrow('not registered yet');
    expect(() => nd.asyncTrigger(inv, { handler, functionName: 'second' })).not.toThrow();
  });

  it('records the default allow-list plus allowHeaders; never credentials unless allowed; marks the replay', async () => {
    const url = await serve(nd.asyncTrigger(newInvoker(), { handler, allowHeaders: ['X-Tenant'], headerName: 'x-mode' }));
    // The configured header replaces the defaults.
    expect((await fetch(url, { headers: ASYNC })).status).toBe(200);
    const res = await fetch(url + '/p?q=1', {
      headers: { 'x-mode': 'async', 'x-tenant': 't1', authorization: 'Bearer secret', cookie: 'a=b', 'x-other': 'no', 'x-request-id': 'r1' },
    });
    expect(res.status).toBe(202);
    const { requestId } = (await res.json()) as { requestId: string };
    const record = await waitForStatus(invoker, requestId, ['Succeeded']);
    const recorded = (record.payload as { headers: Record<string, string> }).headers;
    expect(recorded).toMatchObject({ 'x-tenant': 't1', 'x-request-id': 'r1' });
    for (const name of ['authorization', 'cookie', 'x-other', 'x-mode']) expect(recorded[name]).toBeUndefined();
    const seen = (record.result as { body: { headers: Record<string, string>; replay: unknown } }).body;
    expect(seen.headers['x-fc-request-id']).toBe(requestId);
    expect(seen.replay).toEqual({ requestId, functionName: 'http', attempt: 1 });
  });

  it('applies maxBodyBytes', async () => {
    const url = await serve(nd.asyncTrigger(newInvoker(), { handler, maxBodyBytes: 10 }));
    expect((await fetch(url, { method: 'POST', headers: ASYNC, body: '0123456789' })).status).toBe(202);
    const res = await fetch(url, { method: 'POST', headers: ASYNC, body: '0123456789a' });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'PayloadTooLarge', limit: 10 } });
  });

  it('fails an attempt that runs past timeoutSeconds (the replay is aborted)', async () => {
    const hang = (_req: IncomingMessage, _res: ServerResponse) => {};
    const url = await serve(nd.asyncTrigger(newInvoker(), { handler: hang, timeoutSeconds: 0.2, maxAsyncRetryAttempts: 0 }));
    const { requestId } = (await (await fetch(url, { headers: ASYNC })).json()) as { requestId: string };
    const record = await waitForStatus(invoker, requestId, ['Failed']);
    expect(record.error?.errorType).toBe('FunctionTimeout');
  });

  it('stopping a running replay aborts the replayed request', async () => {
    let started = false;
    let aborted = false;
    const hang = (req: IncomingMessage, _res: ServerResponse) => {
      started = true;
      req.once('close', () => (aborted = true));
    };
    const url = await serve(nd.asyncTrigger(newInvoker(), { handler: hang }));
    const { requestId } = (await (await fetch(url, { headers: ASYNC })).json()) as { requestId: string };
    await waitFor(() => started, { what: 'the replay to start' });
    await invoker.stopInvocation(requestId);
    await waitForStatus(invoker, requestId, ['Stopped']);
    await waitFor(() => aborted, { what: 'the replayed request to be aborted' });
  });

  it('answers 500 when a body parser ran before the trigger (it must come first)', async () => {
    const app = express();
    app.use(express.text({ type: () => true }));
    app.use(ex.asyncTrigger(newInvoker(), { app }));
    app.post('/', (_req, res) => res.send('sync'));
    const url = await serve(app);
    const res = await fetch(url, { method: 'POST', headers: ASYNC, body: 'x' });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ error: { code: 'BodyAlreadyRead' } });
    expect((await invoker.listInvocations()).items).toEqual([]);
  });
});
