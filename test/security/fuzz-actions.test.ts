/**
 * Fuzzing the entry points that act, 10,000 generated cases each (see fuzz.test.ts for the
 * others): invokeAsyncMany's items, the dashboard's routes and actions (through the fetch
 * adapter, in process), and the command line's arguments. Every case gets a 2xx/3xx/4xx answer,
 * a typed error or a documented exit code, never a 500, a crash, a hang or an unhandled
 * rejection, and refused input stores nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AsyncInvokerError, createInvoker, fakeClock, memoryStore, type Invoker } from '../../src/index.js';
import { dashboard } from '../../src/http/fetch.js';
import { sqliteStore } from '../../src/stores/sqlite/index.js';
import { EXIT } from '../../src/cli/exit.js';
import { runInProcess } from '../cli/in-process.js';

const RUNS = 10_000;

const hostile = fc.oneof(
  fc.jsonValue(),
  fc.anything({ withBigInt: true, withDate: true, withMap: true, withNullPrototype: true, withTypedArray: true }),
  fc.constantFrom(Number.NaN, Infinity, undefined, null, '\u0000', '\ud800', JSON.parse('{"__proto__":{"x":1}}') as unknown, () => 1),
);

describe('invokeAsyncMany', () => {
  it(`answers any items with per-item results or an InvalidArgumentError, storing exactly what it accepted (${RUNS} cases)`, async () => {
    const invoker = createInvoker({ store: memoryStore(), concurrency: 0, clock: fakeClock(), maxPayloadBytes: 1024 });
    invoker.register('f', () => null, { maxAsyncEventAgeInSeconds: 120 });
    const accepted = new Set<string>();
    const item = fc.oneof(
      fc.record({
        name: fc.oneof(fc.constant('f'), fc.string({ maxLength: 20 }), hostile),
        payload: hostile,
        options: fc.oneof(
          fc.constant(undefined),
          fc.record({ delaySeconds: fc.oneof(fc.integer({ min: -5, max: 200 }), hostile), invocationId: fc.oneof(fc.constantFrom('a', 'b', 'c'), hostile) }, { requiredKeys: [] }),
          hostile,
        ),
      }, { requiredKeys: [] }),
      hostile,
    );
    try {
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.array(item, { maxLength: 8 }), hostile), async (items) => {
          let results;
          try {
            results = await invoker.invokeAsyncMany(items as never);
          } catch (error) {
            expect(error).toBeInstanceOf(AsyncInvokerError);
            expect(Array.isArray(items)).toBe(false);
            return;
          }
          expect(results).toHaveLength((items as unknown[]).length);
          for (const r of results) {
            if (r.ok) accepted.add(r.requestId);
            else expect(r.error).toBeInstanceOf(AsyncInvokerError);
          }
        }),
        { numRuns: RUNS },
      );
      const stored = (await invoker.listInvocations({ limit: 1000 })).items.map((r) => r.requestId);
      // Idempotent repeats share a request id: what is stored is exactly the distinct accepted ids.
      expect(new Set(stored)).toEqual(accepted);
    } finally {
      await invoker.close();
    }
  }, 180_000);
});

describe('the dashboard', () => {
  let invoker: Invoker;
  let ids: string[] = [];
  beforeAll(async () => {
    invoker = createInvoker({ store: memoryStore(), concurrency: 0, clock: fakeClock() });
    invoker.register('f', () => null);
    ids = await Promise.all([1, 2, 3].map(async (n) => (await invoker.invokeAsync('f', { n })).requestId));
  });
  afterAll(() => invoker.close());

  it(`answers any method, path, query and headers with 2xx, 3xx or 4xx, never 500 (${RUNS} cases)`, async () => {
    const origin = 'http://127.0.0.1:3000';
    // Allowed (so actions run) or refused, per request, by a header the case chooses.
    const handle = dashboard(invoker, {
      basePath: '/jobs',
      authorize: (request) => (request.headers.get('x-allow') === 'no' ? 401 : true),
      maxBulk: 50,
    });
    const segment = fc.oneof(fc.constantFrom(...ids), fc.constantFrom('..', '%2e%2e', '%00', '%zz', 'stop', 'rerun', 'logs', ''), fc.string({ maxLength: 30 }).map(encodeURIComponent));
    const path = fc.oneof(
      fc.constantFrom('/jobs', '/jobs/', '/jobs/assets/app.js', '/jobs/assets/../../package.json', '/jobs/assets/%2e%2e/x', '/jobs/api/session', '/jobs/api/overview', '/jobs/api/invocations'),
      fc.tuple(fc.constantFrom('invocations', 'bulk', 'live', 'session', 'overview', 'x'), segment, fc.constantFrom('', 'stop', 'rerun', 'logs', 'x')).map(([a, b, c]) => `/jobs/api/${a}/${b}${c ? `/${c}` : ''}`),
      fc.string({ maxLength: 80 }).map((s) => `/jobs/${encodeURIComponent(s)}`),
    );
    const query = fc.oneof(
      fc.constant(''),
      fc.dictionary(
        fc.constantFrom('functionName', 'status', 'since', 'until', 'limit', 'cursor', 'requestId', 'invocationIdPrefix', 'after', 'action', 'max', 'topic', 'id'),
        fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('f', 'Enqueued,Failed', 'stop', 'rerun', '-1', '0', '1e9', 'overview', 'list')),
      ).map((q) => `?${new URLSearchParams(q).toString()}`),
      fc.string({ maxLength: 3000 }).map((s) => `?${s}`),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'),
        path,
        query,
        fc.record({
          origin: fc.constantFrom(origin, 'https://evil.example', 'null', ''),
          'sec-fetch-site': fc.constantFrom('same-origin', 'cross-site', 'none', ''),
          'x-forwarded-for': fc.constantFrom('', '10.0.0.1'),
          'x-allow': fc.constantFrom('yes', 'no'),
          'content-type': fc.constantFrom('application/json', 'text/plain', ''),
        }, { requiredKeys: [] }),
        async (method, p, q, headers) => {
          // The live route is a stream that stays open: asked for, it answers 200 and is closed at once.
          const abort = new AbortController();
          const init: RequestInit = { method, headers: Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== '')), signal: abort.signal };
          let response: Response;
          try {
            response = await handle(new Request(`${origin}${p}${q}`, init));
          } finally {
            abort.abort();
          }
          expect(response.status, `${method} ${p}${q}`).toBeGreaterThanOrEqual(200);
          expect(response.status, `${method} ${p}${q}`).toBeLessThan(500);
          if (response.body) await response.body.cancel().catch(() => {});
        },
      ),
      { numRuns: RUNS },
    );
  }, 300_000);
});

describe('the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'async-invoker-cli-fuzz-'));
  const file = join(dir, 'cli.db');
  let ids: string[] = [];
  beforeAll(async () => {
    const invoker = createInvoker({ store: sqliteStore({ path: file }), concurrency: 0 });
    invoker.register('f', () => null);
    ids = await Promise.all([1, 2].map(async (n) => (await invoker.invokeAsync('f', { n })).requestId));
    await invoker.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`exits with a documented code and never throws for any arguments (${RUNS} cases)`, async () => {
    const codes = new Set<number>(Object.values(EXIT));
    const word = fc.oneof(
      fc.constantFrom('list', 'show', 'logs', 'stop', 'rerun', 'stats', 'workers', 'help', '--help', '-h', '--version'),
      fc.constantFrom('--store', `sqlite:${file}`, 'sqlite:', 'sqlite::memory:', 'redis://', 'postgres://', 'mongo://x', '--json', '--function', 'f', '--status', 'Failed', 'Nope', '--limit', '0', '5', '101', '--since', '1h', '-1', '--until', 'yesterday'),
      fc.constantFrom(...ids),
      fc.string({ maxLength: 30 }),
    );
    const seen = new Map<number, number>();
    // Whole commands against the seeded store too, not only scrambled words.
    const command = fc.tuple(fc.constantFrom('list', 'show', 'logs', 'stop', 'rerun', 'stats'), fc.array(word, { maxLength: 4 })).map(([name, rest]) => [name, '--store', `sqlite:${file}`, ...rest]);
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.array(word, { maxLength: 8 }), command), async (args) => {
        // Commands that wait for Ctrl-C (follow, dashboard) are tested on their own.
        fc.pre(!args.some((a) => a === 'dashboard' || a === '--follow' || a === '-f'));
        const { code, stderr } = await runInProcess(args);
        expect(code, `${JSON.stringify(args)} exited by a signal`).not.toBeNull();
        seen.set(code!, (seen.get(code!) ?? 0) + 1);
        expect(codes.has(code!), `${JSON.stringify(args)} exited ${code}`).toBe(true);
        expect(stderr, JSON.stringify(args)).not.toMatch(/at .*\.ts:\d+|TypeError|ReferenceError/);
      }),
      { numRuns: RUNS },
    );
    // Not only usage errors: commands ran against the store, found things and missed others.
    expect([EXIT.ok, EXIT.usage, EXIT.notFound].map((code) => (seen.get(code) ?? 0) > 0)).toEqual([true, true, true]);
  }, 300_000);
});
