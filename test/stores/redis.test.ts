import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, StoreError } from '../../src/errors.js';
import { memoryStore } from '../../src/stores/memory.js';
import { ACTIVITY_TTL_SECONDS } from '../../src/stores/redis/activity.js';
import { CLAIM_FIELDS } from '../../src/stores/redis/codec.js';
import { redisStore } from '../../src/stores/redis/index.js';
import { DURATION_BUCKETS_MS, type LogAppend, type StoreBackgroundTask, type StoreSignal } from '../../src/stores/contract.js';
import { waitFor } from '../helpers.js';
import { captureOutput } from './capture-output.js';
import { dropPrefix, REDIS_URL, redisAvailable } from './redis-server.js';
import { freePort } from './redis-own-server.js';
import { claimReq, newInvocation, slot, succeed, T0, testStore } from './conformance.js';

const URL = REDIS_URL;
const available = redisAvailable;
if (!available) console.warn('redis store tests skipped: no Redis answers at 127.0.0.1:6379 (set CI to fail instead)');

const runId = randomBytes(4).toString('hex');
let n = 0;
let prefix = `t${runId}-${n}`;
let admin: Redis;
/** A loopback port where nothing listens. */
let deadPort = 0;

/** Closes the connections of this test's stores that serve `role` (found by their names). */
async function killConnections(role: 'commands' | 'signals'): Promise<number> {
  const list = (await admin.call('CLIENT', 'LIST')) as string;
  const ids = list
    .split('\n')
    .filter((line) => line.includes(` name=async-invoker:${prefix}:${role} `))
    .map((line) => /^id=(\d+)/.exec(line)![1]!);
  for (const id of ids) await admin.call('CLIENT', 'KILL', 'ID', id);
  return ids.length;
}

/** Keys of `pattern` (SCAN, not KEYS: the server is shared). */
async function keysOf(pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found.sort();
}

/** A batch of log lines for an invocation, as the model test generates them. */
const logBatchArb = fc.record({
  pick: fc.nat(),
  lines: fc.array(
    fc.record({
      message: fc.string({ unit: 'grapheme', maxLength: 12 }),
      data: fc.option(fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.constant({ n: 0.1 + 0.2, s: 'ü' })), { nil: undefined }),
    }),
    { maxLength: 6 },
  ),
  maxLines: fc.integer({ min: 0, max: 8 }),
  maxBytes: fc.integer({ min: 0, max: 60 }),
  dropped: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
});

/** Collects what a store reports to onError. */
function reports(store: { onError: (h: (e: StoreError, d: StoreBackgroundTask) => void) => unknown }): [StoreBackgroundTask, StoreError][] {
  const seen: [StoreBackgroundTask, StoreError][] = [];
  store.onError((error, during) => seen.push([during, error]));
  return seen;
}

describe.skipIf(!available)('redis store', () => {
  beforeAll(async () => {
    admin = new Redis(URL);
    deadPort = await freePort();
  });
  afterAll(async () => {
    // One pass for every prefix of this run (a scan per prefix takes long on a full server).
    await dropPrefix(`t${runId}-*`, admin);
    admin.disconnect();
  });

  testStore({
    name: 'redis',
    create: (options) => redisStore({ url: URL, prefix, ...options }),
    cleanup: async () => {
      await dropPrefix(prefix, admin);
      prefix = `t${runId}-${++n}`;
    },
    shared: true,
    unreachable: () => redisStore({ url: `redis://127.0.0.1:${deadPort}`, prefix, operationTimeoutMs: 500 }),
    extra: ({ open }) => {
      describe('redis specifics', () => {
        it('wakes a subscriber in another instance through pub/sub', async () => {
          const a = await open();
          const b = await open();
          const seen: StoreSignal[] = [];
          b.subscribe((s) => seen.push(s));
          // The subscription is set up asynchronously: enqueue until one signal crosses over.
          await waitFor(async () => {
            await a.enqueue([newInvocation({ functionName: 'wake' })]);
            return seen.some((s) => s.type === 'due' && s.functionName === 'wake');
          }, { what: 'a due signal from the other instance', intervalMs: 20 });
        });

        it('shares state between two instances on one prefix', async () => {
          const a = await open();
          const b = await open();
          const inv = newInvocation({ invocationId: 'shared_1', payloadKey: '{"n":1}' });
          await a.enqueue([inv]);
          const [c] = (await b.claim(claimReq(T0))).items;
          expect(c?.record.requestId).toBe(inv.requestId);
          expect(await a.settle([succeed(inv.requestId, c!.leaseToken, T0 + 5)])).toEqual(['ok']);
          expect(await b.get(inv.requestId)).toMatchObject({ status: 'Succeeded' });
          const again = await b.enqueue([newInvocation({ invocationId: 'shared_1', payloadKey: '{"n":1}' })]);
          expect(again[0]).toEqual({ requestId: inv.requestId, outcome: 'duplicate' });
        });

        it('claims in due order when its guessed candidates are wrong (work from another instance)', async () => {
          const a = await open();
          const b = await open();
          const own = Array.from({ length: 6 }, (_, i) => newInvocation({ createdAt: T0 + 10 + i }));
          await a.enqueue(own);
          // The first claim leaves `a` guessing own[2..] next; `b` adds earlier work and takes one.
          expect((await a.claim(claimReq(T0 + 100, [slot()], 2))).items.map((c) => c.record.requestId))
            .toEqual([own[0]!.requestId, own[1]!.requestId]);
          expect((await b.claim(claimReq(T0 + 100, [slot()], 1))).items[0]?.record.requestId).toBe(own[2]!.requestId);
          const early = [newInvocation({ createdAt: T0 }), newInvocation({ createdAt: T0 + 1 })];
          await b.enqueue(early);
          const { items } = await a.claim(claimReq(T0 + 100, [slot()], 3));
          expect(items.map((c) => c.record.requestId)).toEqual([early[0]!.requestId, early[1]!.requestId, own[3]!.requestId]);
          expect(items.every((c) => c.kind === 'run' && c.record.status === 'Running')).toBe(true);
        });

        it('decodes claims with the field order claim-take.lua returns', () => {
          const lua = readFileSync(new globalThis.URL('../../src/stores/redis/scripts/claim-take.lua', import.meta.url), 'utf8');
          const list = /local RECORD_FIELDS = \{([^}]*)\}/.exec(lua)![1]!;
          expect(list.split(',').map((f) => f.trim().replace(/'/g, ''))).toEqual([...CLAIM_FIELDS]);
        });

        it('bounds logs as the memory model does (random batches and bounds, several invocations per call)', async () => {
          const store = await open();
          const model = memoryStore();
          try {
            await fc.assert(
              fc.asyncProperty(fc.array(fc.array(logBatchArb, { maxLength: 3 }), { minLength: 1, maxLength: 8 }), fc.nat(), async (calls, cursor) => {
                const invs = [newInvocation({ functionName: 'la' }), newInvocation({ functionName: 'lb' }), newInvocation({ functionName: 'la' })];
                await store.enqueue(invs);
                await model.enqueue(invs);
                let at = T0;
                for (const batches of calls) {
                  const items: LogAppend[] = batches.map((b) => ({
                    requestId: invs[b.pick % invs.length]!.requestId,
                    lines: b.lines.map((l) => ({ at: at++, attempt: 1, level: 'info' as const, message: l.message, ...(l.data === undefined ? {} : { data: l.data }) })),
                    maxLines: b.maxLines,
                    maxBytes: b.maxBytes,
                    ...(b.dropped === undefined ? {} : { dropped: b.dropped }),
                  }));
                  await store.appendLogs(items);
                  await model.appendLogs(items);
                  for (const inv of invs) {
                    expect(await store.readLogs(inv.requestId, 0, 1000)).toEqual(await model.readLogs(inv.requestId, 0, 1000));
                    expect(await store.readLogs(inv.requestId, cursor % 12, 2)).toEqual(await model.readLogs(inv.requestId, cursor % 12, 2));
                  }
                }
              }),
              { numRuns: 40 },
            );
          } finally {
            await model.close();
          }
        }, 60_000);

        it('prunes an invocation with its log and its invocationId index entry, leaving none of its keys', async () => {
          const store = await open({ retention: { maxAgeSeconds: 60 } });
          const inv = newInvocation({ functionName: 'gone', invocationId: 'gone_1', payloadKey: 'k' });
          await store.enqueue([inv]);
          const [c] = (await store.claim(claimReq(T0, [slot('gone')]))).items;
          await store.appendLogs([{ requestId: inv.requestId, lines: [{ at: T0, attempt: 1, level: 'info', message: 'hi' }], maxLines: 10, maxBytes: 100 }]);
          await store.settle([succeed(inv.requestId, c!.leaseToken, T0 + 1)]);
          expect(await keysOf(`{${prefix}:gone}:log:*`)).toHaveLength(1);
          expect(await admin.zcard(`{${prefix}:gone}:iids`)).toBe(1);
          expect(await store.prune(T0 + 120_000)).toBe(1);
          expect(await keysOf(`{${prefix}:gone}*`)).toEqual([]);
          expect(await store.findByInvocationId('gone', 'gone_1')).toBeUndefined();
          expect((await store.list({ limit: 10, invocationIdPrefix: 'gone' })).items).toEqual([]);
        });

        it('lists by invocationId prefix past a page of the index, across functions, in order', async () => {
          const store = await open();
          const invs = Array.from({ length: 2400 }, (_, i) => newInvocation({
            functionName: ['pa', 'pb', 'pc'][i % 3]!,
            invocationId: `job_${i}`,
            payloadKey: 'k',
            createdAt: T0 + Math.floor(i / 4), // several per millisecond: requestId breaks the tie
          }));
          invs.push(newInvocation({ functionName: 'pa', invocationId: 'jöb_1', payloadKey: 'k' }), newInvocation({ functionName: 'pb' }));
          await store.enqueue(invs);
          const expected = (prefixOf: string, fn?: string) => invs
            .filter((inv) => inv.invocationId?.startsWith(prefixOf) && (fn === undefined || inv.functionName === fn))
            .sort((a, b) => b.createdAt - a.createdAt || (a.requestId < b.requestId ? 1 : -1))
            .map((inv) => inv.requestId);
          const pages = async (query: { invocationIdPrefix: string; functionName?: string; limit: number }) => {
            const seen: string[] = [];
            let cursor: string | undefined;
            do {
              const page = await store.list({ ...query, ...(cursor === undefined ? {} : { cursor }) });
              seen.push(...page.items.map((r) => r.requestId));
              cursor = page.nextCursor;
            } while (cursor !== undefined);
            return seen;
          };
          expect(await pages({ invocationIdPrefix: 'job_1', limit: 97 })).toEqual(expected('job_1'));
          expect(expected('job_1').length).toBeGreaterThan(1000);
          expect(await pages({ invocationIdPrefix: 'job_', functionName: 'pb', limit: 300 })).toEqual(expected('job_', 'pb'));
          expect((await store.list({ limit: 10, invocationIdPrefix: 'jö' })).items.map((r) => r.invocationId)).toEqual(['jöb_1']);
          expect((await store.list({ limit: 5000, invocationIdPrefix: 'j' })).items).toHaveLength(2401);
        }, 30_000);

        it('keeps rerunOf and traceContext as record fields only when given', async () => {
          const store = await open();
          const plain = newInvocation({ functionName: 'rr' });
          const rerun = newInvocation({ functionName: 'rr', rerunOf: plain.requestId, traceContext: '00-abc-def-01' });
          await store.enqueue([plain, rerun]);
          const fieldsOf = async (rid: string) => Object.keys(await admin.hgetall(`{${prefix}:rr}:inv:${rid}`));
          expect(await fieldsOf(plain.requestId)).not.toContain('rerunOf');
          expect(await fieldsOf(plain.requestId)).not.toContain('traceContext');
          expect(await fieldsOf(rerun.requestId)).toEqual(expect.arrayContaining(['rerunOf', 'traceContext']));
          const stopped = await store.requestStop({ requestId: rerun.requestId, now: T0, deliverOnFailure: false });
          expect(stopped.record).toMatchObject({ rerunOf: plain.requestId, traceContext: '00-abc-def-01' });
        });

        it('lets activity counters expire past their retention, and adds nothing for an entry without counters', async () => {
          const store = await open();
          const zeros = new Array<number>(DURATION_BUCKETS_MS.length + 1).fill(0);
          await store.recordActivity([
            { functionName: 'act', minute: T0, finished: { Succeeded: 1 }, wait: zeros, run: zeros },
            { functionName: 'act', minute: T0 + 60_000, finished: {}, wait: zeros, run: zeros },
          ]);
          expect(await keysOf(`{${prefix}:act}*`)).toEqual([`{${prefix}:act}:act:${T0}`, `{${prefix}:act}:actmin`]);
          for (const key of await keysOf(`{${prefix}:act}*`)) {
            const ttl = await admin.ttl(key);
            expect(ttl).toBeGreaterThan(48 * 3600);
            expect(ttl).toBeLessThanOrEqual(ACTIVITY_TTL_SECONDS);
          }
          expect((await store.activity({ since: T0, until: T0 + 120_000 })).map((e) => e.minute)).toEqual([T0]);
        });

        it('keeps numbers in payloads exact (Lua never parses them)', async () => {
          const store = await open();
          const payload = { a: 0.1 + 0.2, b: 9007199254740991, c: 1e-7, s: 'ü "quoted" \\ /' };
          const inv = newInvocation({ payload });
          await store.enqueue([inv]);
          expect((await store.get(inv.requestId))?.payload).toEqual(payload);
        });

        it('reloads its scripts when the server lost them (SCRIPT FLUSH, restart)', async () => {
          const store = await open();
          const first = newInvocation();
          await store.enqueue([first]);
          await admin.script('FLUSH');
          const second = newInvocation();
          expect((await store.enqueue([second]))[0]!.outcome).toBe('created');
          const { items } = await store.claim(claimReq(T0));
          expect(items.map((c) => c.record.requestId).sort()).toEqual([first.requestId, second.requestId].sort());
        });

        it('rejects bad options naming the field', () => {
          expect(() => redisStore({ prefix: 'a{b}' })).toThrow(InvalidArgumentError);
          expect(() => redisStore({ prefix: 'a{b}' })).toThrow(/options\.prefix/);
          expect(() => redisStore({ url: 'http://x' })).toThrow(/options\.url/);
          expect(() => redisStore({ operationTimeoutMs: 0 })).toThrow(/options\.operationTimeoutMs must be an integer from 1/);
          expect(() => redisStore({ operationTimeoutMs: 1.5 })).toThrow(/options\.operationTimeoutMs/);
        });

        it('names the server without its credentials in errors, with what to check', async () => {
          const store = redisStore({ url: `redis://someone:s3cret@127.0.0.1:${deadPort}/2`, prefix, operationTimeoutMs: 500 });
          try {
            const error = await store.get('x').then(() => undefined, (e: unknown) => e);
            expect(error).toBeInstanceOf(StoreError);
            expect((error as Error).message).toBe(
              `redis store: cannot reach redis://127.0.0.1:${deadPort}/2 (connect ECONNREFUSED 127.0.0.1:${deadPort}): ` +
                'check that Redis is running and the url is right',
            );
            expect((error as StoreError).cause).toMatchObject({ code: 'ECONNREFUSED' });
          } finally {
            await store.close();
          }
        });

        it('prints nothing while Redis cannot be reached, and reports the subscriber to onError', async () => {
          const output = captureOutput();
          try {
            const store = redisStore({ url: `redis://127.0.0.1:${deadPort}`, prefix, operationTimeoutMs: 500 });
            const reported = reports(store);
            store.subscribe(() => {});
            for (let i = 0; i < 3; i++) await expect(store.enqueue([newInvocation()])).rejects.toBeInstanceOf(StoreError);
            await waitFor(() => reported.length > 0, { what: 'the subscriber failure to be reported' });
            expect(reported.map(([during]) => during)).toEqual(['subscriber']);
            expect(reported[0]![1].message).toMatch(/^redis store: cannot reach redis:\/\/127\.0\.0\.1:\d+ \(connect ECONNREFUSED/);
            await store.close();
          } finally {
            output.restore();
          }
          expect(output.printed).toEqual([]);
        });

        it('keeps a client passed in from printing while the store uses it, and bounds its calls', async () => {
          const output = captureOutput();
          const client = new Redis(`redis://127.0.0.1:${deadPort}`, { lazyConnect: true });
          try {
            const store = redisStore({ client, prefix, operationTimeoutMs: 500 });
            const error = await store.get('x').then(() => undefined, (e: unknown) => e);
            expect(error).toBeInstanceOf(StoreError);
            expect((error as Error).message).toContain(`cannot reach redis://127.0.0.1:${deadPort} (connect ECONNREFUSED`);
            expect((error as Error).message).toContain('the client passed in');
            client.disconnect();
            await store.close();
          } finally {
            client.disconnect();
            output.restore();
          }
          expect(output.printed).toEqual([]);
        });

        it('reports a failed publish and a failed retention pass to onError, while the writes succeed', async () => {
          // A Redis user that may do everything but PUBLISH and ZCARD (which only retention uses here).
          const user = `async-invoker-test-${runId}`;
          await admin.call('ACL', 'SETUSER', user, 'reset', 'on', '>pw', '~*', '&*', '+@all', '-publish', '-zcard');
          const store = redisStore({ url: `redis://${user}:pw@127.0.0.1:6379`, prefix });
          try {
            const reported = reports(store);
            const inv = newInvocation();
            expect(await store.enqueue([inv])).toEqual([{ requestId: inv.requestId, outcome: 'created' }]);
            await waitFor(() => reported.some(([during]) => during === 'publish'), { what: 'the failed publish' });
            // The first claim runs a retention pass, which needs ZCARD.
            expect((await store.claim(claimReq(T0))).items).toHaveLength(1);
            await waitFor(() => reported.some(([during]) => during === 'prune'), { what: 'the failed retention pass' });
            for (const [, error] of reported) {
              expect(error).toBeInstanceOf(StoreError);
              expect(error.message).toContain('NOPERM');
              expect(error.message).toContain('lacks a permission');
            }
          } finally {
            await store.close();
            await admin.call('ACL', 'DELUSER', user);
          }
        });

        it('reports a lost subscriber, subscribes again on its own, and wakes the functions it claims for', async () => {
          const a = await open();
          const b = await open();
          const reported = reports(a);
          const heard: StoreSignal[] = [];
          a.subscribe((s) => heard.push(s));
          await a.claim(claimReq(T0, [slot('served')]));
          const crossesOver = async (functionName: string): Promise<void> => {
            await waitFor(async () => {
              await b.enqueue([newInvocation({ functionName })]);
              return heard.some((s) => s.type === 'due' && s.functionName === functionName);
            }, { what: `a due signal for ${functionName} from the other instance`, intervalMs: 20 });
          };
          await crossesOver('before');
          expect(await killConnections('signals')).toBe(1);
          await waitFor(() => reported.length > 0, { what: 'the lost subscriber to be reported' });
          expect(reported[0]![0]).toBe('subscriber');
          expect(reported[0]![1]).toBeInstanceOf(StoreError);
          // Signals sent while it was gone are lost: the functions it claims for are woken instead.
          await waitFor(() => heard.some((s) => s.type === 'due' && s.functionName === 'served'), { what: 'a due signal for served' });
          await crossesOver('after');
          expect(reported).toHaveLength(1);
        });

        it('leaves a client passed in open on close', async () => {
          const client = new Redis(URL);
          const store = redisStore({ client, prefix });
          const inv = newInvocation();
          await store.enqueue([inv]);
          store.subscribe(() => {});
          await store.close();
          expect(await client.ping()).toBe('PONG');
          client.disconnect();
        });
      });
    },
  });
});
