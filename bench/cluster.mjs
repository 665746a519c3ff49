#!/usr/bin/env node
// `npm run bench:cluster`: the Redis store on a Redis Cluster of this machine's own redis-server
// processes (scripts/redis-cluster.mjs, each master with one replica) beside the standalone
// Redis on 127.0.0.1:6379, with and without `replicas: 1` (every enqueue, settle and stop waits
// for a replica's WAIT acknowledgement).
//
// - end to end: one producer enqueues n no-op invocations spread over 6 functions
//   (invokeAsyncMany), 2 worker processes of concurrency 16 run them; a round ends when all ran.
// - serial enqueue: one invokeAsync at a time, each awaited (what one request costs).
//
// Median of 3 rounds after a warm-up. Writes bench/results/cluster.{json,md}. On a 2-core
// machine every node, worker and producer shares the same cores: more masters spread Redis's
// work, they cannot add CPU.
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInvoker } from 'async-invoker';
import { redisStore } from 'async-invoker/redis';
import { startCluster } from '../scripts/redis-cluster.mjs';
import { machine } from './lib/machine.js';
import { measure, waitFor } from './lib/rounds.js';
import { REDIS_URL, deleteKeys } from './lib/services.js';

const quick = process.argv.includes('--quick');
const N = quick ? 2000 : 10_000;
const SERIAL = quick ? 300 : 2000;
const FUNCTIONS = Array.from({ length: 6 }, (_, i) => `noop${i}`);
const WORKERS = 2;
const CONCURRENCY = 16;
const WORKER = fileURLToPath(new URL('./lib/scale-worker.js', import.meta.url));
const runId = `aiclu${Date.now().toString(36)}`;
const log = (message) => process.stderr.write(`[bench:cluster] ${message}\n`);

async function endToEnd(redis, ns) {
  const producer = createInvoker({ store: redisStore({ ...redis, prefix: ns }), concurrency: 0 });
  for (const fn of FUNCTIONS) producer.register(fn, () => null);
  const ran = new Array(WORKERS).fill(0);
  const workers = [];
  try {
    for (let i = 0; i < WORKERS; i++) {
      const child = fork(WORKER, [JSON.stringify({ redis, ns, concurrency: CONCURRENCY, functions: FUNCTIONS })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      workers.push(child);
      await new Promise((resolve, reject) => {
        child.on('message', (m) => (m.ready ? resolve() : (ran[i] = m.ran)));
        child.once('exit', (code) => reject(new Error(`cluster bench worker exited with ${code}`)));
      });
    }
    const total = () => ran.reduce((a, b) => a + b, 0);
    const once = async (count) => {
      const before = total();
      const start = performance.now();
      for (let at = 0; at < count; at += 1000) {
        const items = Array.from({ length: Math.min(1000, count - at) }, (_, i) => ({ name: FUNCTIONS[(at + i) % FUNCTIONS.length], payload: { i: at + i } }));
        await producer.invokeAsyncMany(items);
      }
      await waitFor(() => total() - before >= count, `${count} runs`, 240_000, 2);
      return { ms: performance.now() - start };
    };
    return (await measure(once, N, { warmupN: Math.round(N / 5) })).opsPerSec;
  } finally {
    for (const child of workers) child.send('stop');
    await Promise.all(workers.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
    await producer.close();
  }
}

async function serialEnqueue(redis, ns) {
  const producer = createInvoker({ store: redisStore({ ...redis, prefix: `${ns}s` }), concurrency: 0 });
  for (const fn of FUNCTIONS) producer.register(fn, () => null);
  try {
    await producer.getInvocation('warm-up');
    const once = async (count) => {
      const start = performance.now();
      for (let i = 0; i < count; i++) await producer.invokeAsync(FUNCTIONS[i % FUNCTIONS.length], { i });
      return { ms: performance.now() - start };
    };
    return (await measure(once, SERIAL, { warmupN: Math.round(SERIAL / 5) })).opsPerSec;
  } finally {
    await producer.close();
  }
}

const rows = [];
async function measureSetup(label, redis, replicas, cleanup) {
  for (const r of replicas) {
    const ns = `${runId}${rows.length}`;
    const options = { ...redis, replicas: r };
    log(`${label}, replicas: ${r}`);
    const e2e = await endToEnd(options, ns);
    const serial = await serialEnqueue(options, ns);
    rows.push({ setup: label, replicas: r, e2ePerSec: Math.round(e2e), serialEnqueuePerSec: Math.round(serial) });
    await cleanup(ns);
  }
}

await measureSetup('standalone Redis (127.0.0.1:6379, no replica)', { url: REDIS_URL }, [0], async (ns) => {
  await deleteKeys(ns);
  await deleteKeys(`${ns}s`);
});
for (const masters of [1, 3]) {
  log(`starting a cluster of ${masters} master(s), one replica each`);
  const cluster = await startCluster({ masters, replicas: 1 });
  try {
    // The cluster is the bench's own and is removed whole at the end: no key clean-up needed.
    await measureSetup(`Redis Cluster, ${masters} master${masters > 1 ? 's' : ''} + ${masters} replica${masters > 1 ? 's' : ''}`, { cluster: cluster.urls }, [0, 1], async () => {});
  } finally {
    await cluster.stop();
  }
}

const header = '| setup | replicas | end to end, invocations/s (2 workers × 16, 6 functions) | serial enqueue/s |\n| --- | --- | --- | --- |';
const table = [header, ...rows.map((r) => `| ${r.setup} | ${r.replicas} | ${r.e2ePerSec.toLocaleString('en-US')} | ${r.serialEnqueuePerSec.toLocaleString('en-US')} |`)].join('\n');
const m = machine();
console.log(table);
const out = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(out, { recursive: true });
writeFileSync(`${out}cluster.json`, JSON.stringify({ at: new Date().toISOString(), machine: m, n: N, serial: SERIAL, rows }, null, 2) + '\n');
writeFileSync(`${out}cluster.md`, `# Redis Cluster bench (${new Date().toISOString()})\n\n${JSON.stringify(m)}\n\n${table}\n`);
