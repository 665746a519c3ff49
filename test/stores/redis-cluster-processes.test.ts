/**
 * Worker processes on a real Redis Cluster (3 masters, 3 replicas, started by this file; the
 * workers import dist/: build first): every invocation runs exactly once across 4 processes and
 * 6 functions spread over the masters; nothing is lost while workers are SIGKILLed again and
 * again; and with `replicas: 1`, every invocation whose enqueue was acknowledged ends Succeeded
 * although a master is SIGKILLed under load and its replica takes over.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis, type Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInvoker, type Invoker } from '../../src/invoker.js';
import { redisStore } from '../../src/stores/redis/index.js';
import { CRASH_TEST_TIMEOUT_MS, expectNothingLost, runCrashTest } from '../crash/harness.js';
import { stopProcesses, waitFor } from '../helpers.js';
import { newInvocation } from './conformance.js';
import { adminCluster, dropClusterPrefix, redisServerInstalled, startCluster, type OwnCluster } from './redis-cluster-server.js';
import { REDIS_URL, redisAvailable } from './redis-server.js';

const available = (redisServerInstalled && redisAvailable) || process.env.CI !== undefined;
const runId = randomBytes(4).toString('hex');
const FUNCTIONS = Array.from({ length: 6 }, (_, i) => `job${i}`);
const WORKER = fileURLToPath(new URL('./redis-worker.mjs', import.meta.url));

let cluster: OwnCluster;
let admin: Cluster;
/** The ledger of attempts lives on the standalone Redis: it must outlive anything done to the cluster. */
let ledger: Redis;
const children: ChildProcess[] = [];
const prefixes: string[] = [];

function nextPrefix(): string {
  const prefix = `cp${runId}-${prefixes.length}`;
  prefixes.push(prefix);
  return prefix;
}

/** Forks a worker (test/stores/redis-worker.mjs) on the cluster; resolves once it claims. */
async function startWorker(prefix: string, ledgerKey: string, storeOptions: Record<string, unknown>): Promise<ChildProcess> {
  // leaseSeconds 5, handlers of 2 ms.
  const child = fork(WORKER, [prefix, ledgerKey, '16', '5', '2'], {
    stdio: 'inherit',
    env: { ...process.env, WORKER_STORE_OPTIONS: JSON.stringify(storeOptions), WORKER_FUNCTIONS: FUNCTIONS.join(',') },
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code, signal) => reject(new Error(`redis worker exited before ready (${code ?? signal})`)));
  });
  return child;
}

async function stopWorkers(): Promise<void> {
  await stopProcesses(children.splice(0));
}

/** Status of each request id (read in chunks through the invoker). */
async function statuses(invoker: Invoker, ids: readonly string[]): Promise<Map<string, string | undefined>> {
  const found = new Map<string, string | undefined>();
  for (let at = 0; at < ids.length; at += 200) {
    const chunk = ids.slice(at, at + 200);
    const records = await Promise.all(chunk.map((id) => invoker.getInvocation(id)));
    chunk.forEach((id, i) => found.set(id, records[i]?.status));
  }
  return found;
}

describe.skipIf(!available)('redis store on a Redis Cluster: worker processes', () => {
  beforeAll(async () => {
    cluster = await startCluster();
    admin = adminCluster(cluster);
    ledger = new Redis(REDIS_URL);
  }, 120_000);
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    if (ledger) {
      for (const prefix of prefixes) await ledger.del(`{${prefix}}:ledger`);
      ledger.disconnect();
    }
    admin?.disconnect();
    await cluster?.stop();
  });

  it('runs each of 2000 invocations of 6 functions exactly once across 4 worker processes', async () => {
    const prefix = nextPrefix();
    const ledgerKey = `{${prefix}}:ledger`;
    const storeOptions = { cluster: [...cluster.urls] };
    await Promise.all(Array.from({ length: 4 }, () => startWorker(prefix, ledgerKey, storeOptions)));
    const producer = createInvoker({ store: redisStore({ ...storeOptions, prefix }), concurrency: 0 });
    for (const fn of FUNCTIONS) producer.register(fn, () => null);
    try {
      const ids = await Promise.all(Array.from({ length: 2000 }, (_, n) => producer.invokeAsync(FUNCTIONS[n % FUNCTIONS.length]!, { n })));
      await waitFor(async () => (await ledger.llen(ledgerKey)) >= 2000 && (await producer.queueMetrics()).total.depth === 0 &&
        (await producer.queueMetrics()).total.running === 0, { timeoutMs: 120_000, intervalMs: 100, what: 'all invocations to run' });
      const seen = await statuses(producer, ids.map((r) => r.requestId));
      expect([...seen.values()].filter((s) => s === 'Succeeded')).toHaveLength(2000);
      const lines = await ledger.lrange(ledgerKey, 0, -1);
      const runs = new Map<string, number>();
      for (const line of lines) {
        const [requestId, attempt] = line.split(' ');
        expect(attempt).toBe('1');
        runs.set(requestId!, (runs.get(requestId!) ?? 0) + 1);
      }
      expect(lines).toHaveLength(2000);
      expect(runs.size).toBe(2000);
      expect(new Set(lines.map((line) => line.split(' ')[2])).size).toBeGreaterThan(1);
    } finally {
      await producer.close();
      await stopWorkers();
      await dropClusterPrefix(cluster, admin, prefix);
    }
  }, 180_000);

  it('loses nothing when workers on the cluster are SIGKILLed again and again', async () => {
    const prefix = nextPrefix();
    const dir = mkdtempSync(join(tmpdir(), 'async-invoker-cluster-crash-'));
    const storeOptions = { cluster: [...cluster.urls], prefix };
    const store = redisStore(storeOptions);
    try {
      const report = await runCrashTest({ kind: 'redis', storeOptions, store, ledger: join(dir, 'ledger.txt') });
      expectNothingLost('redis cluster', report);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      await dropClusterPrefix(cluster, admin, prefix);
    }
  }, CRASH_TEST_TIMEOUT_MS);

  it('keeps waking another instance when the node its signal connection is on is SIGKILLed', async () => {
    const prefix = nextPrefix();
    const a = redisStore({ cluster: [...cluster.urls], prefix });
    const b = redisStore({ cluster: [...cluster.urls], prefix });
    const reported: string[] = [];
    b.onError((_error, during) => reported.push(during));
    const seen: string[] = [];
    b.subscribe((signal) => {
      if (signal.type === 'due') seen.push(signal.functionName);
    });
    const crossed = async (functionName: string) => waitFor(async () => {
      await a.enqueue([newInvocation({ functionName })]);
      return seen.includes(functionName);
    }, { timeoutMs: 60_000, intervalMs: 50, what: `a due signal for ${functionName} from the other instance` });
    // Which node b's signal connection went to (its connection name says whose it is).
    const onNode = async (): Promise<number | undefined> => {
      for (const port of cluster.ports) {
        const node = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null });
        node.on('error', () => {}); // a node that is down: connect() rejects below
        try {
          await node.connect();
          const list = (await node.call('CLIENT', 'LIST')) as string;
          if (list.includes(`name=async-invoker:${prefix}:signals `)) return port;
        } catch {
          // a node that is down
        } finally {
          node.disconnect();
        }
      }
      return undefined;
    };
    let port: number | undefined;
    try {
      await crossed('before');
      port = await onNode();
      expect(port).toBeDefined();
      await cluster.kill(port!);
      await cluster.settled();
      // b reports the lost subscriber, opens one on another node and hears signals again.
      await crossed('after');
      expect(reported).toContain('subscriber');
      expect(await onNode()).not.toBe(port);
    } finally {
      await a.close();
      await b.close();
      // Back as a replica, synced: the failover test below needs every master to have one.
      if (port !== undefined) await cluster.restart(port);
      await cluster.synced();
    }
  }, 180_000);

  it('with replicas: 1, ends every acknowledged invocation Succeeded although a master is SIGKILLed under load', async () => {
    const prefix = nextPrefix();
    const ledgerKey = `{${prefix}}:ledger`;
    const storeOptions = { cluster: [...cluster.urls], replicas: 1, replicaTimeoutMs: 1000, operationTimeoutMs: 3000 };
    await Promise.all(Array.from({ length: 2 }, () => startWorker(prefix, ledgerKey, storeOptions)));
    const producer = createInvoker({ store: redisStore({ ...storeOptions, prefix }), concurrency: 0 });
    producer.on('error', () => {}); // store faults during the failover are expected here
    for (const fn of FUNCTIONS) producer.register(fn, () => null);
    const acknowledged: string[] = [];
    let refused = 0;
    let producing = true;
    // 8 producers, each awaiting its enqueue: an id counts once invokeAsync resolved with it.
    const producers = Array.from({ length: 8 }, async (_, p) => {
      for (let n = 0; producing; n++) {
        try {
          const { requestId } = await producer.invokeAsync(FUNCTIONS[(p + n) % FUNCTIONS.length]!, { p, n });
          acknowledged.push(requestId);
        } catch {
          refused++;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    });
    const killed = (await cluster.masters())[0]!;
    try {
      await waitFor(async () => acknowledged.length >= 500 && (await ledger.llen(ledgerKey)) >= 200,
        { timeoutMs: 60_000, intervalMs: 20, what: 'work flowing before the kill' });
      await cluster.kill(killed);
      const atKill = acknowledged.length;
      // Its replica takes over; the killed node comes back as the new master's replica, so
      // writes to its slots can be acknowledged by a replica again.
      await cluster.settled();
      await cluster.restart(killed);
      await cluster.synced();
      await waitFor(() => acknowledged.length >= atKill + 500, { timeoutMs: 60_000, intervalMs: 20, what: 'work flowing after the failover' });
    } finally {
      producing = false;
      await Promise.all(producers);
    }
    try {
      const unfinished = (found: Map<string, string | undefined>) => [...found].filter(([, s]) => s !== 'Succeeded');
      let left: [string, string | undefined][] = [];
      await waitFor(async () => {
        left = unfinished(await statuses(producer, acknowledged));
        return left.length === 0;
      }, { timeoutMs: 120_000, intervalMs: 200, what: 'every acknowledged invocation to succeed' }).catch(() => undefined);
      console.log(`redis cluster failover with replicas: 1: ${acknowledged.length} acknowledged, ${refused} refused during the failover, ${left.length} not Succeeded`);
      expect(left).toEqual([]);
    } finally {
      await producer.close();
      await stopWorkers();
      await dropClusterPrefix(cluster, admin, prefix);
    }
  }, 360_000);
});
