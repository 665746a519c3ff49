// Quick Redis store measurement (run `npm run build` first; Redis at 127.0.0.1:6379):
//   node bench/redis-quick.mjs [n=5000] [concurrency=64]
// 1. processing: n no-op invocations enqueued by a producer, then one worker invoker at the
//    given concurrency runs them all; rate = n / time from worker start to the last success.
// 2. end to end: enqueue n and run them with the same invoker; rate = n / total time.
// 3. serial enqueue: one invokeAsync awaited at a time.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createInvoker } from '../dist/index.js';
import { redisStore } from '../dist/stores/redis/index.js';

const n = Number(process.argv[2] ?? 5000);
const concurrency = Number(process.argv[3] ?? 64);
const url = 'redis://127.0.0.1:6379';
const prefix = `bench${randomBytes(4).toString('hex')}`;

function succeededAll(invoker, count) {
  let done = 0;
  return new Promise((resolve) => invoker.on('succeeded', () => ++done === count && resolve()));
}

async function processing() {
  const producer = createInvoker({ store: redisStore({ url, prefix: `${prefix}p` }), concurrency: 0 });
  producer.register('noop', () => null);
  await Promise.all(Array.from({ length: n }, (_, i) => producer.invokeAsync('noop', { i })));
  await producer.close();
  const worker = createInvoker({ store: redisStore({ url, prefix: `${prefix}p` }), concurrency });
  const all = succeededAll(worker, n);
  const start = performance.now();
  worker.register('noop', () => null);
  await all;
  const ms = performance.now() - start;
  await worker.close();
  return (n / ms) * 1000;
}

async function endToEnd() {
  const invoker = createInvoker({ store: redisStore({ url, prefix: `${prefix}e` }), concurrency });
  invoker.register('noop', () => null);
  const all = succeededAll(invoker, n);
  const start = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => invoker.invokeAsync('noop', { i })));
  await all;
  const ms = performance.now() - start;
  await invoker.close();
  return (n / ms) * 1000;
}

async function serialEnqueue() {
  const producer = createInvoker({ store: redisStore({ url, prefix: `${prefix}s` }), concurrency: 0 });
  producer.register('noop', () => null);
  const count = Math.min(n, 2000);
  await producer.invokeAsync('noop', { warm: true });
  const start = performance.now();
  for (let i = 0; i < count; i++) await producer.invokeAsync('noop', { i });
  const ms = performance.now() - start;
  await producer.close();
  return (count / ms) * 1000;
}

async function drop() {
  const admin = new Redis(url);
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `{${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await admin.del(...keys);
  } while (cursor !== '0');
  admin.disconnect();
}

try {
  const p = await processing();
  const e = await endToEnd();
  const s = await serialEnqueue();
  console.log(`redis store, n=${n}, concurrency=${concurrency}, Node ${process.version}`);
  console.log(`processing (pre-enqueued): ${p.toFixed(0)} invocations/s`);
  console.log(`end to end (enqueue + run): ${e.toFixed(0)} invocations/s`);
  console.log(`serial enqueue:             ${s.toFixed(0)} enqueues/s`);
} finally {
  await drop();
}
