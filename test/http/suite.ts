/** One suite for every adapter: each framework's test file is a line calling `testTrigger`. */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createInvoker, fakeClock, memoryStore, type ErrorEvent, type Invoker } from '../../src/index.js';
import type { TriggerOptions } from '../../src/http/express.js';
import { waitFor, waitForStatus } from '../helpers.js';
import type { AppFactory, Call, Running } from './apps.js';

const ASYNC = { 'x-fc-invocation-type': 'Async' } as const;
const ADMIN = { 'x-admin': 'yes' } as const;
const FAST_RETRY: TriggerOptions = {
  maxAsyncRetryAttempts: 2,
  retryBackoff: { initialDelayMs: 0, maxDelayMs: 0, jitter: 'none' },
};

interface World {
  invoker: Invoker;
  app: Running;
  calls: Call[];
}

async function start(factory: AppFactory, invoker: Invoker, triggerOptions: TriggerOptions = FAST_RETRY): Promise<World> {
  const calls: Call[] = [];
  const app = await factory(invoker, { trigger: true, calls, triggerOptions });
  return { invoker, app, calls };
}

async function stored(invoker: Invoker): Promise<number> {
  return (await invoker.listInvocations({ limit: 1000 })).items.length;
}

/** What a request id looks like (the invoker's ids: 22 URL-safe base64 characters). */
const REQUEST_ID = /^[A-Za-z0-9_-]{22}$/;

interface ErrorBody {
  error: { code: string; message: string } & Record<string, unknown>;
  ErrorCode: string;
  ErrorMessage: string;
}

/**
 * Every error answer, in every adapter: JSON with this library's `error` object and Function
 * Compute's top-level `ErrorCode` / `ErrorMessage` (what FC's SDKs read), carrying the same code
 * and message. `requestId`: the `x-fc-request-id` it must carry (`'fresh'`: a new one; `'none'`: none).
 */
async function fcError(res: Response, status: number, code: string, requestId: string = 'fresh'): Promise<ErrorBody> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  const text = await res.text();
  const body = JSON.parse(text) as ErrorBody;
  expect(Object.keys(body)).toEqual(['error', 'ErrorCode', 'ErrorMessage']);
  expect(body).toMatchObject({ error: { code }, ErrorCode: code, ErrorMessage: body.error.message });
  expect(body.error.message.length).toBeGreaterThan(0);
  // The same bytes in every adapter: JSON.stringify's, no framework's own formatting.
  expect(text).toBe(JSON.stringify(body));
  const id = res.headers.get('x-fc-request-id');
  if (requestId === 'none') expect(id).toBeNull();
  else if (requestId === 'fresh') expect(id).toMatch(REQUEST_ID);
  else expect(id).toBe(requestId);
  return body;
}

export function testTrigger(name: string, factory: AppFactory): void {
  describe(`asyncTrigger on ${name}`, () => {
    let w: World;
    const url = (path: string) => `${w.app.url}${path}`;
    beforeEach(async () => {
      w = await start(factory, createInvoker({ store: memoryStore(), concurrency: 4 }));
    });
    afterEach(async () => {
      await w.app.close();
      await w.invoker.close();
    });

    it('answers 202 with X-Fc-Request-Id, then replays with body and query intact', async () => {
      const res = await fetch(url('/upload?format=mp4&size=720'), {
        method: 'POST',
        headers: { ...ASYNC, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'clip.mov' }),
      });
      expect(res.status).toBe(202);
      const { requestId } = (await res.json()) as { requestId: string };
      expect(res.headers.get('x-fc-request-id')).toBe(requestId);
      const record = await waitForStatus(w.invoker, requestId, ['Succeeded']);
      expect(w.calls).toEqual([
        { route: 'upload', query: { format: 'mp4', size: '720' }, body: { name: 'clip.mov' }, requestIdHeader: requestId, replayOf: requestId },
      ]);
      expect(record.functionName).toBe('http');
      expect(record.payload).toMatchObject({ method: 'POST', path: '/upload', query: 'format=mp4&size=720', body: '{"name":"clip.mov"}' });
      expect(record.result).toMatchObject({ statusCode: 200, bodyEncoding: 'json', body: { ok: true, name: 'clip.mov', format: 'mp4' } });
      // The Express trap: real requests after a replay must still be answered normally.
      const after = await fetch(url('/hello'));
      expect([after.status, await after.text()]).toEqual([200, 'hello there']);
      const sync = await fetch(url('/upload?format=ogg'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'sync.mov' }),
      });
      expect([sync.status, await sync.json()]).toEqual([200, { ok: true, name: 'sync.mov', format: 'ogg' }]);
      expect(w.calls[1]).toMatchObject({ body: { name: 'sync.mov' }, replayOf: undefined, requestIdHeader: undefined });
    });

    it('keeps a binary body byte for byte; the short header and any case work', async () => {
      const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7 + 3) % 256));
      const res = await fetch(url('/raw'), {
        method: 'POST',
        headers: { 'X-Invocation-Type': 'aSyNc', 'content-type': 'application/octet-stream' },
        body: bytes,
      });
      expect(res.status).toBe(202);
      const { requestId } = (await res.json()) as { requestId: string };
      const record = await waitForStatus(w.invoker, requestId, ['Succeeded']);
      expect(record.payload).toMatchObject({ bodyEncoding: 'base64' });
      expect(record.result).toMatchObject({ body: { length: 4096, sha256: createHash('sha256').update(bytes).digest('hex') } });
    });

    it('passes requests without the header (or with Sync) through unchanged', async () => {
      const plain = await factory(w.invoker, { trigger: false, calls: [], triggerOptions: {} });
      try {
        const requests: [string, RequestInit][] = [
          ['/hello', {}],
          ['/echo?a=1&a=2', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'é body' }],
          ['/echo', { method: 'POST', headers: { 'x-fc-invocation-type': 'Sync' }, body: 'sync' }],
          ['/missing', {}],
        ];
        for (const [path, init] of requests) {
          const [a, b] = await Promise.all([fetch(url(path), init), fetch(plain.url + path, init)]);
          const strip = (h: Headers) => [...h].filter(([k]) => k !== 'date');
          expect([a.status, strip(a.headers), await a.text()]).toEqual([b.status, strip(b.headers), await b.text()]);
        }
        expect(await stored(w.invoker)).toBe(0);
      } finally {
        await plain.close();
      }
    });

    it('retries a 5xx answer per the policy, and fails after the last attempt', async () => {
      const ok = await fetch(url('/flaky?fails=2&key=' + name + '-ok'), { headers: ASYNC });
      const bad = await fetch(url('/flaky?fails=99&key=' + name + '-bad'), { headers: ASYNC });
      const okId = ((await ok.json()) as { requestId: string }).requestId;
      const badId = ((await bad.json()) as { requestId: string }).requestId;
      const done = await waitForStatus(w.invoker, okId, ['Succeeded']);
      expect(done.attempts).toBe(3);
      expect(done.result).toMatchObject({ statusCode: 200 });
      const failed = await waitForStatus(w.invoker, badId, ['Failed']);
      expect(failed.attempts).toBe(3);
      expect(failed.error).toMatchObject({ errorType: 'HttpServerError' });
      expect(failed.error?.errorMessage).toContain('503');
    });

    it('ends Succeeded with a 4xx answer as the result, without retrying', async () => {
      const res = await fetch(url('/missing?x=1'), { method: 'DELETE', headers: ASYNC });
      const { requestId } = (await res.json()) as { requestId: string };
      const record = await waitForStatus(w.invoker, requestId, ['Succeeded']);
      expect(record.attempts).toBe(1);
      expect(record.result).toMatchObject({ statusCode: 404 });
    });

    it.each([
      ['x-fc-invocation-type', 'Later', "'Async' or 'Sync'"],
      ['x-fc-async-delay', 'soon', 'an integer number of seconds from 0 to 3600'],
      ['x-fc-async-delay', '-1', 'from 0 to 3600'],
      ['x-fc-async-delay', '1.5', 'from 0 to 3600'],
      ['x-fc-async-delay', '3601', 'from 0 to 3600'],
      ['x-fc-stateful-async-invocation-id', '9lives', 'a letter or underscore'],
      ['x-fc-stateful-async-invocation-id', 'has space', 'a letter or underscore'],
      ['x-fc-stateful-async-invocation-id', 'a'.repeat(129), 'at most 128'],
    ])('answers 400 for %s: %s, naming header, value and what is allowed; stores nothing', async (header, value, allowed) => {
      const res = await fetch(url('/upload'), {
        method: 'POST',
        headers: { ...ASYNC, [header]: value, 'content-type': 'application/json' },
        body: '{"name":"x"}',
      });
      const { error } = await fcError(res, 400, 'InvalidHeader');
      expect(error).toMatchObject({ header, value });
      expect(error.allowed as string).toContain(allowed);
      expect(error.message).toContain(header);
      expect(await stored(w.invoker)).toBe(0);
      expect(w.calls).toEqual([]);
    });

    it('answers 400 for a delay past the function max event age', async () => {
      await w.app.close();
      await w.invoker.close();
      w = await start(factory, createInvoker({ store: memoryStore() }), { maxAsyncEventAgeInSeconds: 60 });
      const res = await fetch(url('/flaky'), { headers: { ...ASYNC, 'x-fc-async-delay': '61' } });
      expect((await fcError(res, 400, 'InvalidHeader')).error).toMatchObject({ header: 'x-fc-async-delay', value: '61' });
      expect(await stored(w.invoker)).toBe(0);
    });

    it('answers 413 for a body over maxBodyBytes, declared or streamed; stores nothing', async () => {
      const big = Buffer.alloc(128 * 1024 + 1, 97);
      const declared = await fetch(url('/raw'), { method: 'POST', headers: ASYNC, body: big });
      expect((await fcError(declared, 413, 'PayloadTooLarge')).error).toMatchObject({ limit: 131072 });
      const chunks = [big.subarray(0, 70_000), big.subarray(70_000)];
      const streamed = await fetch(url('/raw'), {
        method: 'POST',
        headers: ASYNC,
        body: new ReadableStream({
          pull(controller) {
            const next = chunks.shift();
            if (next) controller.enqueue(next);
            else controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
      await fcError(streamed, 413, 'PayloadTooLarge');
      const exact = await fetch(url('/raw'), { method: 'POST', headers: ASYNC, body: big.subarray(1) });
      expect(exact.status).toBe(202);
      expect(await stored(w.invoker)).toBe(1);
    });

    it('answers 413 when the recorded request is over the function\'s maxPayloadBytes (the limit invokeAsync applies); stores nothing', async () => {
      await w.app.close();
      await w.invoker.close();
      w = await start(factory, createInvoker({ store: memoryStore() }), { ...FAST_RETRY, maxPayloadBytes: 4096 });
      const res = await fetch(url('/raw'), { method: 'POST', headers: ASYNC, body: 'x'.repeat(10_000) });
      expect((await fcError(res, 413, 'PayloadTooLarge')).error).toMatchObject({ limit: 4096 });
      expect(await stored(w.invoker)).toBe(0);
    });

    it('answers a repeat with the same id 202 and the same request id, a different body 409', async () => {
      const send = (body: string, extra: Record<string, string> = {}) =>
        fetch(url('/upload?format=webm'), {
          method: 'POST',
          headers: { ...ASYNC, 'x-fc-stateful-async-invocation-id': 'job_42', 'content-type': 'application/json', ...extra },
          body,
        });
      const first = await send('{"name":"a"}');
      const id = first.headers.get('x-fc-request-id');
      expect(first.status).toBe(202);
      const again = await send('{"name":"a"}', { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
      expect([again.status, again.headers.get('x-fc-request-id')]).toEqual([202, id]);
      const other = await send('{"name":"b"}');
      expect((await fcError(other, 409, 'IdempotencyConflict', id!)).error).toMatchObject({
        header: 'x-fc-stateful-async-invocation-id',
        value: 'job_42',
        requestId: id,
      });
      await waitForStatus(w.invoker, id!, ['Succeeded']);
      expect(w.calls).toHaveLength(1);
      expect(await stored(w.invoker)).toBe(1);
    });

    it('delays by X-Fc-Async-Delay (fake clock)', async () => {
      await w.app.close();
      await w.invoker.close();
      const clock = fakeClock();
      w = await start(factory, createInvoker({ store: memoryStore(), clock }));
      const res = await fetch(url('/flaky?fails=0&key=' + name + '-delay'), { headers: { ...ASYNC, 'x-fc-async-delay': '120' } });
      const { requestId } = (await res.json()) as { requestId: string };
      const record = await w.invoker.getInvocation(requestId);
      expect(record?.scheduledAt).toBe(clock.now() + 120_000);
      await clock.advance(119_000);
      expect(w.calls).toEqual([]);
      expect((await w.invoker.getInvocation(requestId))?.status).toBe('Enqueued');
      await clock.advance(1_000);
      await waitFor(() => w.calls.length === 1, { what: 'the delayed replay' });
      await waitForStatus(w.invoker, requestId, ['Succeeded']);
    });

    it('answers a failure of the store 500 InternalError without its cause, and reports the cause on the error event', async () => {
      await w.app.close();
      await w.invoker.close();
      const store = memoryStore();
      w = await start(factory, createInvoker({ store }));
      const errors: ErrorEvent[] = [];
      w.invoker.on('error', (event) => void errors.push(event));
      await store.close();
      const accept = await fetch(url('/upload'), { method: 'POST', headers: { ...ASYNC, 'content-type': 'application/json' }, body: '{}' });
      const acceptBody = await fcError(accept, 500, 'InternalError');
      const list = await fetch(url('/admin/invocations'), { headers: ADMIN });
      const listBody = await fcError(list, 500, 'InternalError', 'none');
      for (const body of [acceptBody, listBody]) {
        expect(JSON.stringify(body)).not.toMatch(/store|closed|memory/i);
      }
      const http = errors.filter((e) => e.during.startsWith('http:'));
      expect(http.map((e) => e.during)).toEqual(['http:accept', 'http:tasks']);
      expect(w.invoker.metrics().errors).toMatchObject({ 'http:accept': 1, 'http:tasks': 1 });
      for (const { error } of http) expect((error as Error).message).toMatch(/called after close\(\)/);
      // A request without the header still reaches the app.
      expect((await fetch(url('/hello'))).status).toBe(200);
      await w.invoker.close().catch(() => undefined);
    });

    it('answers 400 InvalidPayload, with the issues, when the trigger function\'s payload schema refuses the request; nothing is stored', async () => {
      await w.app.close();
      await w.invoker.close();
      w = await start(factory, createInvoker({ store: memoryStore() }), {
        ...FAST_RETRY,
        payload: z.object({ method: z.literal('POST') }).passthrough(),
      });
      const refused = await fetch(url('/upload'), { headers: ASYNC });
      const body = await fcError(refused, 400, 'InvalidPayload');
      expect(body.error.issues).toEqual([{ path: ['method'], code: 'invalid_value', message: expect.any(String) }]);
      expect(await stored(w.invoker)).toBe(0);
      const ok = await fetch(url('/upload'), { method: 'POST', headers: { ...ASYNC, 'content-type': 'application/json' }, body: '{}' });
      expect(ok.status).toBe(202);
    });

    it('answers 503 InvokerClosed to an async request once the invoker is closed', async () => {
      await w.invoker.close();
      await fcError(await fetch(url('/flaky'), { headers: ASYNC }), 503, 'InvokerClosed');
    });

    describe('task API', () => {
      const admin = (path: string, init: RequestInit = {}) =>
        fetch(url('/admin' + path), { ...init, headers: { ...ADMIN, ...(init.headers as Record<string, string>) } });

      it('lists, gets, filters and pages; 400 for bad query values; 404 for unknown ids', async () => {
        const ids: string[] = [];
        for (const fails of [0, 0, 0]) {
          const res = await fetch(url(`/flaky?fails=${fails}&key=${name}-list`), { headers: ASYNC });
          ids.push(((await res.json()) as { requestId: string }).requestId);
        }
        for (const id of ids) await waitForStatus(w.invoker, id, ['Succeeded']);
        const list = await admin('/invocations?functionName=http&status=Succeeded&limit=2');
        expect(list.status).toBe(200);
        const page = (await list.json()) as { items: { requestId: string }[]; nextCursor?: string };
        expect(page.items).toHaveLength(2);
        const rest = (await (await admin(`/invocations?functionName=http&status=Succeeded&limit=2&cursor=${encodeURIComponent(page.nextCursor!)}`)).json()) as {
          items: { requestId: string }[];
        };
        // A cursor belongs to its filters; another query, or a tampered cursor, is refused.
        for (const query of [`limit=2&cursor=${encodeURIComponent(page.nextCursor!)}`, `functionName=http&status=Succeeded&cursor=${encodeURIComponent(`${page.nextCursor!}x`)}`]) {
          expect((await fcError(await admin(`/invocations?${query}`), 400, 'InvalidArgument', 'none')).error).toMatchObject({ parameter: 'cursor' });
        }
        expect([...page.items, ...rest.items].map((r) => r.requestId).sort()).toEqual([...ids].sort());
        expect(((await (await admin('/invocations?status=Failed,Stopped')).json()) as { items: unknown[] }).items).toEqual([]);

        const one = await admin(`/invocations/${ids[0]}`);
        expect(await one.json()).toMatchObject({ requestId: ids[0], status: 'Succeeded', result: { statusCode: 200 } });

        for (const [query, parameter] of [['limit=0', 'limit'], ['limit=ten', 'limit'], ['status=Done', 'status'], ['since=yesterday', 'since'], ['colour=red', 'colour']]) {
          const bad = await admin(`/invocations?${query}`);
          expect((await fcError(bad, 400, 'InvalidArgument', 'none')).error).toMatchObject({ parameter });
        }
        await fcError(await admin('/invocations/nope'), 404, 'InvocationNotFound', 'none');
        await fcError(await admin('/invocations/nope/stop', { method: 'POST' }), 404, 'InvocationNotFound', 'none');
        await fcError(await admin('/invocations/nope/rerun', { method: 'POST' }), 404, 'InvocationNotFound', 'none');
        const wrongMethod = await admin(`/invocations/${ids[0]}/stop`);
        expect(wrongMethod.headers.get('allow')).toBe('POST');
        await fcError(wrongMethod, 405, 'MethodNotAllowed', 'none');
        // A body on a task route is ignored, whatever its type (no framework parser refuses it).
        const withBody = await admin('/invocations/nope/stop', { method: 'POST', headers: { 'content-type': 'application/json' } });
        await fcError(withBody, 404, 'InvocationNotFound', 'none');
      });

      it('stops a delayed invocation and reruns one under a new id', async () => {
        const res = await fetch(url(`/flaky?fails=0&key=${name}-stop`), { headers: { ...ASYNC, 'x-fc-async-delay': '3600' } });
        const { requestId } = (await res.json()) as { requestId: string };
        const stop = await admin(`/invocations/${requestId}/stop`, { method: 'POST' });
        expect([stop.status, await stop.json()]).toEqual([200, { requestId, status: 'Stopped' }]);
        expect(((await (await admin(`/invocations/${requestId}`)).json()) as { status: string }).status).toBe('Stopped');

        const rerun = await admin(`/invocations/${requestId}/rerun`, { method: 'POST' });
        expect(rerun.status).toBe(202);
        const body = (await rerun.json()) as { requestId: string; rerunOf: string };
        expect(body.rerunOf).toBe(requestId);
        expect(rerun.headers.get('x-fc-request-id')).toBe(body.requestId);
        await waitForStatus(w.invoker, body.requestId, ['Succeeded']);
        expect(w.calls.map((c) => c.replayOf)).toEqual([body.requestId]);
      });

      it('asks authorize: 401 without credentials, 403 with wrong ones', async () => {
        await fcError(await fetch(url('/admin/invocations')), 401, 'Unauthorized', 'none');
        await fcError(await fetch(url('/admin/invocations'), { headers: { 'x-admin': 'no' } }), 403, 'Forbidden', 'none');
        await fcError(await fetch(url('/admin/invocations/x/rerun'), { method: 'POST', headers: { 'x-admin': 'no' } }), 403, 'Forbidden', 'none');
      });
    });
  });
}
