/**
 * Four worker processes on one Redis prefix, no kills: every invocation runs exactly once.
 * Each attempt appends "<requestId> <attempt> <pid>" to a Redis list before it works, so a
 * second run of anything would show up in the ledger. Needs `npm run build` (workers use dist/).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { dropPrefix, REDIS_URL, redisAvailable } from './redis-server.js';
import { afterAll, describe, expect, it } from 'vitest';
import { createInvoker } from '../../src/invoker.js';
import { redisStore } from '../../src/stores/redis/index.js';
import { stopProcesses, waitFor } from '../helpers.js';

const URL = REDIS_URL;
const WORKERS = 4;
const N = 2000;
const available = redisAvailable;
if (!available) console.warn('redis exclusive test skipped: no Redis answers at 127.0.0.1:6379');

const prefix = `excl${randomBytes(4).toString('hex')}`;
const ledgerKey = `{${prefix}}:ledger`;
const children: ChildProcess[] = [];

describe.skipIf(!available)('redis store: 4 worker processes', () => {
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await dropPrefix(prefix);
  });

  it(`runs each of ${N} invocations exactly once`, async () => {
    const script = fileURLToPath(new globalThis.URL('./redis-worker.mjs', import.meta.url));
    for (let i = 0; i < WORKERS; i++) {
      // leaseSeconds 30, handlers of 2 ms: no lease can lapse, so any second run is a bug.
      const child = fork(script, [prefix, ledgerKey, '16', '30', '2'], { stdio: 'inherit' });
      children.push(child);
    }
    // A worker that dies before it is ready (say, dist/ missing) fails the test at once.
    await Promise.all(children.map((child) => new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code, signal) => reject(new Error(`redis worker exited before ready (${code ?? signal})`)));
    })));

    // The producer runs nothing itself (concurrency 0).
    const producer = createInvoker({ store: redisStore({ url: URL, prefix }), concurrency: 0 });
    producer.register('job', () => null);
    const ids = await Promise.all(Array.from({ length: N }, (_, n) => producer.invokeAsync('job', { n })));
    const ledger = new Redis(URL);
    try {
      await waitFor(async () => {
        const { total } = await producer.queueMetrics();
        return total.depth === 0 && total.running === 0 && (await ledger.llen(ledgerKey)) >= N;
      }, { timeoutMs: 60_000, intervalMs: 100, what: 'all invocations to run' });
      const records = await Promise.all(ids.map((r) => producer.getInvocation(r.requestId)));
      expect(records.filter((r) => r?.status === 'Succeeded')).toHaveLength(N);

      const lines = await ledger.lrange(ledgerKey, 0, -1);
      const runs = new Map<string, number>();
      const pids = new Set<string>();
      for (const line of lines) {
        const [requestId, attempt, pid] = line.split(' ');
        expect(attempt).toBe('1');
        runs.set(requestId!, (runs.get(requestId!) ?? 0) + 1);
        pids.add(pid!);
      }
      expect(lines).toHaveLength(N);
      expect(runs.size).toBe(N);
      expect(new Set(ids.map((r) => r.requestId))).toEqual(new Set(runs.keys()));
      // The work was actually shared.
      expect(pids.size).toBeGreaterThan(1);
    } finally {
      ledger.disconnect();
      await producer.close();
      await stopProcesses(children);
    }
  }, 120_000);
});
