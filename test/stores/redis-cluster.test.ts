/**
 * The Redis store on a real Redis Cluster (3 masters, 3 replicas, started by this file): the
 * whole conformance suite, and what only a cluster shows — functions spread over the masters,
 * no command spanning slots, a client passed in, replica acknowledgements, the command line
 * (signals across nodes: redis-cluster-processes.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { redisStore } from '../../src/stores/redis/index.js';
import { runInProcess } from '../cli/in-process.js';
import { freePort } from './redis-own-server.js';
import { adminCluster, clusterKeys, dropClusterPrefix, redisServerInstalled, startCluster, type OwnCluster } from './redis-cluster-server.js';
import { claimReq, newInvocation, slot, succeed, T0, testStore } from './conformance.js';

const available = redisServerInstalled || process.env.CI !== undefined;
const runId = randomBytes(4).toString('hex');
let n = 0;
let prefix = `c${runId}-${n}`;
let cluster: OwnCluster;
let admin: Cluster;
let deadPorts: number[] = [];

describe.skipIf(!available)('redis store on a Redis Cluster', () => {
  beforeAll(async () => {
    cluster = await startCluster();
    admin = adminCluster(cluster);
    deadPorts = [await freePort(), await freePort()];
  }, 120_000);
  afterAll(async () => {
    admin?.disconnect();
    await cluster?.stop();
  });

  testStore({
    name: 'redis cluster',
    create: (options) => redisStore({ cluster: [...cluster.urls], prefix, ...options }),
    cleanup: async () => {
      await dropClusterPrefix(cluster, admin, prefix);
      prefix = `c${runId}-${++n}`;
    },
    shared: true,
    unreachable: () => redisStore({ cluster: deadPorts.map((p) => `redis://127.0.0.1:${p}`), prefix, operationTimeoutMs: 500 }),
    extra: ({ open }) => {
      describe('cluster specifics', () => {
        it('spreads functions over the masters: each function in one slot, several masters used', async () => {
          const store = await open();
          const names = Array.from({ length: 12 }, (_, i) => `fn${i}`);
          await store.enqueue(names.map((functionName) => newInvocation({ functionName })));
          const slots = new Set<number>();
          for (const fn of names) {
            const keys = (await clusterKeys(cluster, `{${prefix}:${fn}}:*`));
            const fnSlots = new Set(await Promise.all(keys.map(async (key) => Number(await admin.cluster('KEYSLOT', key)))));
            expect(fnSlots.size).toBe(1);
            slots.add([...fnSlots][0]!);
          }
          // Which master serves each slot: 12 functions land on more than one of the 3.
          const ranges = await admin.cluster('SLOTS');
          const masters = new Set([...slots].map((s) => ranges.find(([lo, hi]) => s >= lo && s <= hi)![2]![1]));
          expect(masters.size).toBeGreaterThan(1);
          // Work of every function is found by a claim across all of them in one call.
          const { items } = await store.claim(claimReq(T0 + 10, names.map((functionName) => slot(functionName, 1)), 100));
          expect(items.map((c) => c.record.functionName).sort()).toEqual([...names].sort());
          expect(await store.settle(items.map((c) => succeed(c.record.requestId, c.leaseToken, T0 + 20)))).toEqual(items.map(() => 'ok'));
          const listed = await store.list({ limit: 100 });
          expect(listed.items).toHaveLength(12);
          expect(listed.items.every((r) => r.status === 'Succeeded')).toBe(true);
        });

        it('works on an ioredis Cluster passed in, and leaves it open on close', async () => {
          const client = adminCluster(cluster);
          try {
            const store = redisStore({ client, prefix });
            const inv = newInvocation();
            await store.enqueue([inv]);
            expect((await store.get(inv.requestId))?.status).toBe('Enqueued');
            await store.close();
            expect(await client.ping()).toBe('PONG');
          } finally {
            client.disconnect();
          }
        });

        it('lists and shows the cluster\'s invocations from the command line (--store ...&cluster=1)', async () => {
          const store = await open();
          const inv = newInvocation({ functionName: 'cli-fn' });
          await store.enqueue([inv]);
          const seed = `${cluster.urls[1]}?prefix=${prefix}&cluster=1`;
          const listed = await runInProcess(['list', '--store', seed, '--json']);
          expect(listed.stderr).toBe('');
          expect(listed.code).toBe(0);
          expect(listed.stdout).toContain(inv.requestId);
          const shown = await runInProcess(['show', inv.requestId, '--store', seed, '--json']);
          expect(shown.code).toBe(0);
          expect(JSON.parse(shown.stdout)).toMatchObject({ requestId: inv.requestId, functionName: 'cli-fn', status: 'Enqueued' });
        });

        it('fails a write with StoreError naming the replicas when they cannot all acknowledge it', async () => {
          // Each master has one replica: asking for two cannot be met.
          const store = await open({});
          const strict = redisStore({ cluster: [...cluster.urls], prefix, replicas: 2, replicaTimeoutMs: 50 });
          try {
            const error = await strict.enqueue([newInvocation()]).catch((e: unknown) => e);
            expect(error).toBeInstanceOf(StoreError);
            expect((error as Error).message).toMatch(/reached 1 of 2 replica\(s\) within 50 ms \(replicas option\)/);
            // With one replica asked for, the same write counts.
            const one = redisStore({ cluster: [...cluster.urls], prefix, replicas: 1 });
            const [result] = await one.enqueue([newInvocation()]);
            expect(result?.outcome).toBe('created');
            expect((await store.get(result!.requestId))?.status).toBe('Enqueued');
            await one.close();
          } finally {
            await strict.close();
          }
        });
      });
    },
  });
});
