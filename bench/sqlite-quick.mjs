// Durable end-to-end no-op invocations per second on SQLite, with and without group commit.
// One process: invokeAsync × N (Promise.all), a worker at concurrency 64 runs them, until every
// one is Succeeded. Needs a build: `npm run build && node bench/sqlite-quick.mjs [N]`.
// DIST=/path/to/build overrides ../dist; BENCH_DIR overrides the directory of the database file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = process.env.DIST ? `file://${process.env.DIST}/` : new URL('../dist/', import.meta.url).href;
const { createInvoker } = await import(new URL('index.js', dist).href);
const { sqliteStore } = await import(new URL('stores/sqlite/index.js', dist).href);
const total = Number(process.argv[2] ?? 5000);
const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'sqlite-quick-'));

/** Splits every multi-item store call into one call per item, as if nothing batched upstream. */
function perItem(store) {
  const split = (method) => async (items) => (await Promise.all(items.map((item) => method([item])))).flat();
  const wrapper = { name: store.name };
  for (const m of ['claim', 'heartbeat', 'requestStop', 'get', 'list', 'stats', 'prune', 'subscribe', 'close']) {
    wrapper[m] = store[m].bind(store);
  }
  wrapper.enqueue = split(store.enqueue.bind(store));
  wrapper.settle = split(store.settle.bind(store));
  return wrapper;
}

async function once(groupCommit, splitCalls) {
  const inner = sqliteStore({ path: join(dir, `bench-${groupCommit}-${splitCalls}-${Math.random().toString(36).slice(2)}.db`), groupCommit });
  const store = splitCalls ? perItem(inner) : inner;
  const invoker = createInvoker({ store, concurrency: 64 });
  let done = 0;
  let finish;
  const allDone = new Promise((resolve) => (finish = resolve));
  invoker.on('succeeded', () => {
    if (++done === total) finish();
  });
  invoker.register('noop', () => null);
  await store.get('warm-up');
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: total }, (_, i) => invoker.invokeAsync('noop', { i })));
  const acceptedMs = Number(process.hrtime.bigint() - started) / 1e6;
  await allDone;
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  await invoker.close();
  return { groupCommit, callsPerItem: splitCalls, total, acceptedMs: Math.round(acceptedMs), ms: Math.round(ms), perSecond: Math.round((total / ms) * 1000) };
}

try {
  // callsPerItem: the invoker's own batching of enqueues and settles undone, so the store sees
  // one call per invocation; with groupCommit off too, every write is its own transaction.
  // The machine may be shared: each configuration runs 3 times, the median is reported.
  for (const splitCalls of [false, true]) {
    for (const groupCommit of [true, false]) {
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await once(groupCommit, splitCalls));
      runs.sort((a, b) => a.perSecond - b.perSecond);
      console.log(JSON.stringify({ ...runs[1], allPerSecond: runs.map((r) => r.perSecond) }));
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
