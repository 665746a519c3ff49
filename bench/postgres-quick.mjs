// Quick PostgreSQL store measurement (not a test). Run after `npm run build`:
//   node bench/postgres-quick.mjs [postgres://root@127.0.0.1:5432/test]
// 1. serial enqueue: one invokeAsync at a time, each awaited (durable, committed);
// 2. processing: 5,000 no-op invocations enqueued first, then one invoker at concurrency 64
//    runs them; the rate is invocations/s from its start until the last one Succeeded.
import pg from 'pg';
import { createInvoker } from '../dist/index.js';
import { postgresStore } from '../dist/stores/postgres/index.js';

const url = process.argv[2] ?? process.env.PG_URL ?? 'postgres://root@127.0.0.1:5432/test';
const schema = `ai_bench_${process.pid}`;
const TOTAL = 5000;
const SERIAL = 1000;

const producer = createInvoker({ store: postgresStore({ connectionString: url, schema }), concurrency: 0 });
producer.register('noop', () => null);
await producer.getInvocation('warm-up');

let t = performance.now();
for (let i = 0; i < SERIAL; i++) await producer.invokeAsync('noop', { i });
const serialRate = SERIAL / ((performance.now() - t) / 1000);

// Only the serial ones are in the table now: clear them so the run below measures 5,000.
const admin = new pg.Pool({ connectionString: url, max: 1 });
await admin.query(`truncate "${schema}".invocations`);

t = performance.now();
await Promise.all(Array.from({ length: TOTAL }, (_, i) => producer.invokeAsync('noop', { i })));
const batchEnqueueRate = TOTAL / ((performance.now() - t) / 1000);

const worker = createInvoker({ store: postgresStore({ connectionString: url, schema }), concurrency: 64 });
let done = 0;
const finished = new Promise((resolve) => worker.on('succeeded', () => ++done === TOTAL && resolve()));
t = performance.now();
worker.register('noop', () => null);
await finished;
const processRate = TOTAL / ((performance.now() - t) / 1000);

await worker.close();
await producer.close();
await admin.query(`drop schema "${schema}" cascade`);
await admin.end();
console.log(
  `postgres store: processing ${processRate.toFixed(0)} invocations/s (concurrency 64, ${TOTAL} no-op), ` +
    `serial enqueue ${serialRate.toFixed(0)}/s, concurrent enqueue ${batchEnqueueRate.toFixed(0)}/s`,
);
