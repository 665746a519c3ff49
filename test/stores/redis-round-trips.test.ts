/**
 * What the Redis store sends for an enqueue, watched on a redis-server of this test's own: one
 * script call within the function's hash tag, plus the function registry's SADD the first time a
 * store enqueues for a function. Reads that know only a requestId, and listing across functions,
 * still find what it wrote. And for a claim of work it enqueued: one script call, its guess of
 * the due ids in the due index's order. Commands are counted where the store sends them, on a
 * client of the test's own (not through MONITOR: opened while the store's timers write, ioredis
 * can lose its first lines to a race, 'Command queue state error').
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Store } from '../../src/stores/contract.js';
import { redisStore } from '../../src/stores/redis/index.js';
import { newRequestId } from '../../src/ids.js';
import { claimReq, newInvocation, slot, succeed, T0 } from './conformance-helpers.js';
import { OwnRedis, redisServerInstalled } from './redis-own-server.js';

if (!redisServerInstalled && !process.env.CI) console.warn('redis round-trip test skipped: no redis-server on PATH');

/** A client that calls `seen` with each command it sends (pipelined ones too: ioredis sends those one by one). */
function watchedClient(url: string, seen: (name: string, args: readonly unknown[]) => void): Redis {
  const client = new Redis(url);
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((command: Parameters<typeof send>[0], ...rest: unknown[]) => {
    seen(command.name.toLowerCase(), command.args);
    return (send as (...a: unknown[]) => ReturnType<typeof send>)(command, ...rest);
  }) as typeof client.sendCommand;
  return client;
}

describe.runIf(redisServerInstalled || process.env.CI)('redis store: commands per enqueue', () => {
  let server: OwnRedis;
  let client: Redis;
  let store: Store;
  /** Set while a body runs (sent()): the commands the store's client sends. */
  let watching: string[] | undefined;
  beforeAll(async () => {
    server = await OwnRedis.start();
    client = watchedClient(server.url, (name) => watching?.push(name));
    store = redisStore({ client, prefix: 'rt' });
  });
  afterAll(async () => {
    await store.close();
    client.disconnect();
    await server.stop();
  });

  /** The commands the store sent while `body` ran (not those its scripts ran). */
  async function sent(body: () => Promise<unknown>): Promise<string[]> {
    const seen: string[] = [];
    watching = seen;
    try {
      await body();
    } finally {
      watching = undefined;
    }
    return seen;
  }

  it('sends one script call per enqueue once the function is registered, and finds the invocation by requestId', async () => {
    await store.enqueue([newInvocation({ functionName: 'rt-warm-up', createdAt: T0 - 1 })]); // connects and loads the scripts
    const first = newInvocation({ functionName: 'rt-a' });
    expect(await sent(() => store.enqueue([first]))).toEqual(['sadd', 'evalsha']);
    const second = newInvocation({ functionName: 'rt-a' });
    // The script publishes the due signal itself.
    expect(await sent(() => store.enqueue([second]))).toEqual(['evalsha']);
    // Another store on the same data finds it by requestId alone, and lists it with another function's work.
    const other = redisStore({ url: server.url, prefix: 'rt' });
    try {
      const elsewhere = newInvocation({ functionName: 'rt-b', createdAt: T0 + 5 });
      await other.enqueue([elsewhere]);
      expect((await other.get(second.requestId))?.functionName).toBe('rt-a');
      expect((await store.get(elsewhere.requestId))?.functionName).toBe('rt-b');
      expect((await store.list({ limit: 10, since: T0 })).items.map((r) => r.requestId)).toEqual([elsewhere.requestId, second.requestId, first.requestId]);
      const [claimed] = (await other.claim(claimReq(T0, [slot('rt-a')], 1))).items;
      await other.appendLogs([{ requestId: first.requestId, lines: [{ at: T0, attempt: 1, level: 'info', message: 'hi' }], maxLines: 10, maxBytes: 1000 }]);
      expect((await store.readLogs(first.requestId, 0, 10))?.lines.map((l) => l.message)).toEqual(['hi']);
      expect(await store.settle([succeed(first.requestId, claimed!.leaseToken, T0 + 1)])).toEqual(['ok']);
      expect((await store.requestStop({ requestId: second.requestId, now: T0 + 2, deliverOnFailure: false })).outcome).toBe('stopped');
      expect(await store.get('no-such-id')).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('claims work it enqueued in one script call per claim, also when many share a due time (the due index orders those by id)', async () => {
    // A claim's script call is the one whose arguments carry its lease-token base, `<fn>|...`.
    const fn = 'rt-same-ms';
    let claimCalls = 0;
    const ownClient = watchedClient(server.url, (name, args) => {
      if (name.startsWith('eval') && args.some((a) => String(a).startsWith(`${fn}|`))) claimCalls++;
    });
    const own = redisStore({ client: ownClient, prefix: 'rt-claims' });
    try {
      await own.claim(claimReq(T0, [slot(fn)], 1)); // the first claim of a function reads the index
      claimCalls = 0;
      // Batches of 40 invocations due in the same millisecond (random ids, as the invoker makes
      // them), each taken by three claims of 16 before the next batch comes.
      const batches = Array.from({ length: 8 }, (_, b) =>
        Array.from({ length: 40 }, () => newInvocation({ functionName: fn, requestId: newRequestId(), createdAt: T0 + 10 + b })));
      const taken: string[] = [];
      let claims = 0;
      for (const batch of batches) {
        await own.enqueue(batch);
        for (let k = 0; k < 3; k++) {
          const { items: claimed } = await own.claim(claimReq(T0 + 20, [slot(fn, 16)], 16));
          const ids = claimed.map((c) => c.record.requestId);
          // In due order: the same time, so by id (what the sorted set keeps).
          expect(ids).toEqual([...ids].sort());
          taken.push(...ids);
          claims++;
        }
      }
      expect(new Set(taken).size).toBe(8 * 40);
      expect(claimCalls).toBe(claims);
    } finally {
      await own.close();
      ownClient.disconnect();
    }
  });

  it('names as ended, in a limited claim, only the attempts whose settlements it has not sent yet (Redis runs the ones sent first)', async () => {
    const fn = 'rt-ended';
    let settleSent: (() => void) | undefined;
    const named: number[] = [];
    const ownClient = watchedClient(server.url, (name, args) => {
      if (!name.startsWith('eval')) return;
      const argv = args.slice(2 + Number(args[1]));
      // A claim's ARGV[4] is its lease-token base, ARGV[11] how many ended attempts it names.
      if (String(argv[3]).startsWith(`${fn}|`)) named.push(Number(argv[10]));
      else if (argv.some((a) => String(a).startsWith(`${fn}|`))) settleSent?.();
    });
    const own = redisStore({ client: ownClient, prefix: 'rt-ended' });
    try {
      const limited = { ...slot(fn, 2), limits: { concurrency: 2 } };
      const [a, b, c] = [0, 1, 2].map((i) => newInvocation({ functionName: fn, createdAt: T0 + i }));
      await own.enqueue([a!, b!, c!]);
      const running = (await own.claim(claimReq(T0 + 10, [limited], 2))).items;
      expect(running.map((x) => x.record.requestId)).toEqual([a!.requestId, b!.requestId]);
      const [first, second] = running;
      const ended = (x: typeof first) => ({ functionName: fn, requestId: x!.record.requestId, leaseToken: x!.leaseToken });
      // a's settlement is on its way (sent, not answered); b ended, its settlement not yet written.
      const sent = new Promise<void>((resolve) => (settleSent = resolve));
      const settling = own.settle([{ ...succeed(first!.record.requestId, first!.leaseToken, T0 + 11), wake: true }]);
      await sent;
      named.length = 0;
      const claimed = await own.claim({ ...claimReq(T0 + 12, [limited], 2), ended: [ended(first), ended(second)] });
      await settling;
      // Only b is named; a's settlement ran before the claim. Both slots were free for it.
      expect(named).toEqual([1]);
      expect(claimed.items.map((x) => x.record.requestId)).toEqual([c!.requestId]);
    } finally {
      await own.close();
      ownClient.disconnect();
    }
  });
});
