/**
 * Fuzzing every entry point with fast-check, 10,000 generated cases each, bounded in time:
 * every case gets a 2xx/4xx answer or a typed error, never a 500, a crash, a hang or an
 * unhandled rejection, and refused input stores nothing. In process (the cores the adapters
 * share, over the memory store), plus a smaller run over real sockets on 127.0.0.1.
 */
import { connect } from 'node:net';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AsyncInvokerError, createInvoker, fakeClock, InvalidArgumentError, memoryStore, type Invoker } from '../../src/index.js';
import { asyncTrigger, taskRoutes } from '../../src/http/node.js';
import { createTaskRouter } from '../../src/http/tasks.js';
import { createTriggerCore } from '../../src/http/trigger.js';
import type { BodyResult, RecordedRequest, TriggerRequest } from '../../src/http/types.js';

const RUNS = 10_000;

/** Hostile and ordinary values: JSON, near-JSON, and what JSON cannot carry. */
const anyValue = fc.oneof(
  fc.jsonValue(),
  fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withTypedArray: true, withSparseArray: true, withBoxedValues: true }),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(Number.NaN, Infinity, -0, undefined, null, '\u0000', '\ud800', JSON.parse('{"__proto__":{"x":1}}') as unknown, () => 1, Symbol('s')),
);

async function storedIds(invoker: Invoker): Promise<Set<string>> {
  const ids = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await invoker.listInvocations({ limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const r of page.items) ids.add(r.requestId);
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

describe('invokeAsync and invoke', () => {
  it(`refuse hostile payloads and options with typed errors and store nothing for them (${RUNS} cases)`, async () => {
    const invoker = createInvoker({ store: memoryStore(), concurrency: 0, clock: fakeClock() });
    invoker.register('f', () => null, { maxPayloadBytes: 4096 });
    const accepted = new Set<string>();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('f', 'f', 'f', 'nope', '', 'a b'),
          anyValue,
          fc.oneof(fc.constant(undefined), anyValue, fc.record({ delaySeconds: anyValue, invocationId: anyValue }, { requiredKeys: [] })),
          async (name, payload, options) => {
            try {
              const { requestId } = await invoker.invokeAsync(name as 'f', payload as never, options as never);
              expect(typeof requestId).toBe('string');
              accepted.add(requestId);
            } catch (error) {
              expect(error).toBeInstanceOf(AsyncInvokerError);
            }
          },
        ),
        { numRuns: RUNS },
      );
      // Exactly what was accepted was stored (an idempotent repeat returns the first id).
      expect(await storedIds(invoker)).toEqual(accepted);
      expect(accepted.size).toBeGreaterThan(0);
    } finally {
      await invoker.close();
    }
  }, 120_000);
});

describe('listInvocations', () => {
  it(`answers any filter with a page or an InvalidArgumentError, and refuses tampered cursors (${RUNS} cases)`, async () => {
    const clock = fakeClock();
    const invoker = createInvoker({ store: memoryStore(), concurrency: 0, clock });
    invoker.register('f', () => null);
    for (let i = 0; i < 30; i++) {
      await invoker.invokeAsync('f', { i }, i % 3 ? {} : { invocationId: `id_${i}` });
      await clock.advance(1);
    }
    const { nextCursor } = await invoker.listInvocations({ limit: 5 });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            anyValue,
            fc.record(
              {
                functionName: fc.oneof(fc.constant('f'), anyValue),
                invocationIdPrefix: fc.oneof(fc.constant('id_'), anyValue),
                status: fc.oneof(fc.constantFrom('Enqueued', 'Succeeded', ['Enqueued', 'Running']), anyValue),
                since: anyValue,
                until: anyValue,
                limit: fc.oneof(fc.integer({ min: -5, max: 2000 }), anyValue),
                cursor: fc.oneof(
                  fc.string(),
                  // A real cursor, changed in one character, or used as it is.
                  fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 1 })).map(([at, c]) => {
                    const i = at % nextCursor!.length;
                    return nextCursor!.slice(0, i) + c + nextCursor!.slice(i + 1);
                  }),
                  fc.constant(nextCursor!),
                ),
              },
              { requiredKeys: [] },
            ),
          ),
          async (options) => {
            try {
              const page = await invoker.listInvocations(options as never);
              expect(Array.isArray(page.items)).toBe(true);
              if (typeof options === 'object' && options !== null && 'cursor' in options) {
                const cursor = (options as { cursor: unknown }).cursor;
                // The only cursor accepted is the untouched one, with the filters it came from (none).
                expect(cursor === nextCursor || cursor === undefined).toBe(true);
              }
            } catch (error) {
              expect(error).toBeInstanceOf(InvalidArgumentError);
            }
          },
        ),
        { numRuns: RUNS },
      );
    } finally {
      await invoker.close();
    }
  }, 120_000);
});

/** A request as the trigger core reads it, from generated parts. */
function fakeRequest(parts: { method: string; url: string; headers: Record<string, string>; body: BodyResult | 'throws' }): TriggerRequest {
  return {
    method: parts.method,
    url: parts.url,
    header: (name) => parts.headers[name],
    replay: undefined,
    readBody: () => (parts.body === 'throws' ? Promise.reject(new Error('socket hang up')) : Promise.resolve(parts.body)),
  };
}

const headerValue = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.constantFrom('Async', 'async', 'Sync', 'ASYNC', '', ' Async ', '0', '3600', '3601', '-1', '1e3', '0x10', 'job_1', '9lives', 'a'.repeat(129)),
  fc.integer({ min: -10, max: 5000 }).map(String),
);

describe('the HTTP trigger', () => {
  let invoker: Invoker;
  beforeAll(() => {
    invoker = createInvoker({ store: memoryStore(), concurrency: 0, clock: fakeClock() });
  });
  afterAll(() => invoker.close());

  it(`answers any headers and body 202, 400, 409 or 413, never 500, storing only what it accepts (${RUNS} cases)`, async () => {
    const replay = (_r: RecordedRequest) => Promise.reject(new Error('not replayed here'));
    const core = createTriggerCore(invoker, { maxBodyBytes: 1024 }, replay);
    let accepted = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE'),
        fc.oneof(fc.constantFrom('/', '/upload', '/a?b=c', '/%00', '/../../etc/passwd', '/%zz'), fc.string({ maxLength: 300 }).map((s) => `/${s}`)),
        fc.record(
          {
            'x-fc-invocation-type': headerValue,
            'x-invocation-type': headerValue,
            'x-fc-async-delay': headerValue,
            'x-fc-stateful-async-invocation-id': headerValue,
            'content-type': fc.oneof(fc.constant('application/json'), fc.string({ maxLength: 50 })),
            traceparent: fc.oneof(fc.constant('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'), fc.string({ maxLength: 80 })),
            tracestate: fc.string({ maxLength: 80 }),
          },
          { requiredKeys: [] },
        ),
        fc.oneof(
          fc.uint8Array({ maxLength: 1500 }).map((b): BodyResult => ({ ok: true, body: Buffer.from(b) })),
          fc.string({ maxLength: 1100 }).map((s): BodyResult => ({ ok: true, body: Buffer.from(s) })),
          fc.constantFrom<BodyResult | 'throws'>({ ok: false, reason: 'tooLarge' }, { ok: false, reason: 'aborted' }, 'throws'),
        ),
        async (method, url, headers, body) => {
          const req = fakeRequest({ method, url, headers, body });
          const kind = core.classify(req);
          if (kind === undefined) return; // passed through to the app, untouched
          const reply = kind === 'async' ? await core.accept(req) : kind;
          expect([202, 400, 409, 413]).toContain(reply.status);
          if (reply.status === 202) accepted.add((reply.body as { requestId: string }).requestId);
        },
      ),
      { numRuns: RUNS },
    );
    expect(await storedIds(invoker)).toEqual(accepted);
    accepted = new Set();
  }, 120_000);

  it('accepts a body holding NUL bytes, recorded as base64 (the fuzzer found a 500 here)', async () => {
    const own = createInvoker({ store: memoryStore(), concurrency: 0, clock: fakeClock() });
    const core = createTriggerCore(own, { maxBodyBytes: 1024 }, () => Promise.reject(new Error('not replayed here')));
    const body = Buffer.from([0x7b, 0x00, 0x7d]);
    const reply = await core.accept(fakeRequest({ method: 'POST', url: '/upload', headers: { 'x-fc-invocation-type': 'Async' }, body: { ok: true, body } }));
    expect(reply.status).toBe(202);
    const { requestId } = reply.body as { requestId: string };
    expect((await own.getInvocation(requestId))!.payload).toMatchObject({ body: body.toString('base64'), bodyEncoding: 'base64' });
    await own.close();
  });

  it(`task routes answer any method, path and query with 2xx/4xx, never 500 (${RUNS} cases)`, async () => {
    const router = createTaskRouter<unknown>(invoker, { basePath: '/admin' });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE'),
        fc.oneof(
          fc.constantFrom('/admin/invocations', '/admin/invocations/', '/admin/invocations/x/stop', '/admin/invocations/%2e%2e/rerun', '/admin/invocations/%zz', '/admin/invocations/a/b/c'),
          fc.string({ maxLength: 100 }).map((s) => `/admin/invocations/${s}`),
          fc.tuple(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 })).map(([a, b]) => `/admin/invocations/${encodeURIComponent(a)}/${b}`),
        ),
        fc.oneof(
          fc.constant(''),
          fc.dictionary(fc.constantFrom('functionName', 'status', 'since', 'until', 'limit', 'cursor', 'invocationIdPrefix', 'x'), fc.string({ maxLength: 60 })).map(
            (q) => `?${new URLSearchParams(q).toString()}`,
          ),
          fc.string({ maxLength: 2000 }).map((s) => `?${s}`),
        ),
        async (method, path, query) => {
          const reply = await router.handle({}, method, path + query);
          if (reply === undefined) return; // not a task route: the app's
          expect([200, 202, 400, 401, 403, 404, 405]).toContain(reply.status);
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);
});

describe('over real sockets on 127.0.0.1', () => {
  let server: Server;
  let port = 0;
  let invoker: Invoker;
  beforeAll(async () => {
    invoker = createInvoker({ store: memoryStore(), concurrency: 0, clock: fakeClock() });
    const tasks = taskRoutes(invoker, { basePath: '/admin' });
    const app = asyncTrigger(invoker, { handler: (req, res) => tasks(req, res, () => res.end('app')), maxBodyBytes: 2048 });
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await invoker.close();
  });

  /** Sends raw bytes and resolves with the status line's code (0 when the server closed without one). */
  function raw(bytes: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let data = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        data += chunk;
        const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
        if (m) {
          socket.destroy();
          resolve(Number(m[1]));
        }
      });
      socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
      socket.on('error', reject);
      socket.end(bytes, 'latin1');
    });
  }

  it('answers truncated, chunked, oversized and malformed async requests without a 500 or a crash (500 cases)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('POST', 'PUT', 'GET'),
        fc.string({ maxLength: 3000 }),
        fc.oneof(fc.constant('length'), fc.constant('short'), fc.constant('long'), fc.constant('chunked'), fc.constant('badchunk')),
        fc.constantFrom('0', '5', 'x', '3601'),
        async (method, body, framing, delay) => {
          const head = `${method} /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Fc-Invocation-Type: Async\r\nX-Fc-Async-Delay: ${delay}\r\nConnection: close\r\n`;
          const bytes = Buffer.byteLength(body, 'latin1');
          const request =
            framing === 'chunked'
              ? `${head}Transfer-Encoding: chunked\r\n\r\n${bytes.toString(16)}\r\n${body}\r\n0\r\n\r\n`
              : framing === 'badchunk'
                ? `${head}Transfer-Encoding: chunked\r\n\r\nzz\r\n${body}`
                : `${head}Content-Length: ${framing === 'short' ? bytes + 10 : framing === 'long' ? Math.max(0, bytes - 1) : bytes}\r\n\r\n${body}`;
          const status = await raw(request);
          // 0: the server gave up on a request whose body never ended (the socket closed): no answer owed.
          expect([0, 202, 400, 413]).toContain(status);
        },
      ),
      { numRuns: 500 },
    );
    // The server still serves.
    expect(await raw('GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toBe(200);
  }, 120_000);
});
