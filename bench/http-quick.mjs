// Quick loopback measurement of the Express trigger: 202 acks per second through asyncTrigger
// vs the same app's plain synchronous route, p50/p99 latency, and how long the background
// replays take to drain. Memory store, and SQLite when built. Needs `npm run build` first.
//
//   node bench/http-quick.mjs [seconds=5] [connections=32]
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [mode, storeKind] = process.argv.slice(2);
if (mode === 'server') await server(storeKind);
else await main(Number(process.argv[2] ?? 5), Number(process.argv[3] ?? 32));

async function server(kind) {
  const { default: express } = await import('express');
  const { createInvoker, memoryStore } = await import('async-invoker');
  const { asyncTrigger } = await import('async-invoker/express');
  let store;
  if (kind === 'sqlite') {
    const { sqliteStore } = await import('async-invoker/sqlite');
    store = sqliteStore({ path: join(process.env.BENCH_DIR, 'bench.db') });
  } else store = memoryStore({ retention: { maxCount: 1000 } });
  // concurrency 0: producer only, to see the cost of the ack alone (nothing is replayed).
  const invoker = createInvoker({ store, concurrency: process.env.PRODUCER_ONLY ? 0 : 32 });
  const app = express();
  app.use(asyncTrigger(invoker, { app, functionName: 'work' }));
  app.get('/stats', async (_req, res) => res.json({ queue: await invoker.queueMetrics() }));
  app.post('/work', express.json(), (req, res) => res.json({ ok: true, n: req.body.n }));
  const listener = app.listen(0, '127.0.0.1', () => process.send({ port: listener.address().port }));
  process.on('message', async (m) => {
    if (m === 'stop') {
      listener.close();
      await invoker.close();
      process.exit(0);
    }
  });
}

async function main(seconds, connections) {
  const { default: autocannon } = await import('autocannon');
  const kinds = ['memory'];
  try {
    await import('async-invoker/sqlite');
    kinds.push('sqlite');
  } catch {
    console.log('(SQLite store not built: memory only)');
  }
  const rows = [];
  for (const kind of kinds) {
    const dir = mkdtempSync(join(tmpdir(), 'http-quick-'));
    const child = fork(new URL(import.meta.url), ['server', kind], { env: { ...process.env, BENCH_DIR: dir, PRODUCER_ONLY: '' } });
    const { port } = await new Promise((resolve) => child.once('message', resolve));
    const base = `http://127.0.0.1:${port}`;
    const body = JSON.stringify({ n: 1 });
    const run = (headers) =>
      autocannon({ url: `${base}/work`, method: 'POST', connections, duration: seconds, headers: { 'content-type': 'application/json', ...headers }, body });
    const sync = await run({});
    const t0 = Date.now();
    const asyncRun = await run({ 'x-fc-invocation-type': 'Async' });
    const ackedAt = Date.now();
    let stats;
    for (;;) {
      stats = await (await fetch(`${base}/stats`)).json();
      if (stats.queue.total.depth === 0 && stats.queue.total.running === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const drainedMs = Date.now() - ackedAt;
    rows.push(row(`${kind}: sync route`, sync));
    rows.push(row(`${kind}: async 202 ack`, asyncRun, { drainAfterLoadMs: drainedMs, accepted: asyncRun.requests.total, 'replays/s (load+drain)': Math.round(asyncRun['2xx'] / ((Date.now() - t0) / 1000)) }));
    child.send('stop');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });

    const pdir = mkdtempSync(join(tmpdir(), 'http-quick-'));
    const producer = fork(new URL(import.meta.url), ['server', kind], { env: { ...process.env, BENCH_DIR: pdir, PRODUCER_ONLY: '1' } });
    const p = await new Promise((resolve) => producer.once('message', resolve));
    const acks = await autocannon({
      url: `http://127.0.0.1:${p.port}/work`,
      method: 'POST',
      connections,
      duration: seconds,
      headers: { 'content-type': 'application/json', 'x-fc-invocation-type': 'Async' },
      body,
    });
    rows.push(row(`${kind}: async 202 ack, producer only`, acks));
    producer.send('stop');
    await new Promise((resolve) => producer.once('exit', resolve));
    rmSync(pdir, { recursive: true, force: true });
  }
  console.log(`Express 5 on loopback, ${connections} connections, ${seconds} s per run, Node ${process.version}`);
  console.table(rows);
}

function row(name, r, extra = {}) {
  return {
    name,
    'req/s': Math.round(r.requests.average),
    'p50 ms': r.latency.p50,
    'p99 ms': r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    ...extra,
  };
}
