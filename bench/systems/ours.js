// async-invoker itself, on each store, behind the same small adapter the peers implement:
//   run(n)          enqueue n no-op invocations with Promise.all, resolve once all ran and settled
//   enqueueOne(i)   one acknowledged (durable) enqueue
//   enqueueBulk(n)  n enqueues with invokeAsyncMany
//   close()         stop and remove everything this adapter created
// Imported by package name: the bench measures what users import (dist/, through the exports map).
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInvoker, memoryStore } from 'async-invoker';
import { PG_URL, REDIS_URL, deleteKeys, dropSchemas, redisAofUrl } from '../lib/services.js';

export async function createStore(kind, ns) {
  switch (kind) {
    case 'memory':
      return { store: memoryStore(), drop: async () => {} };
    case 'sqlite':
    case 'sqlite-normal': {
      const { sqliteStore } = await import('async-invoker/sqlite');
      // On the machine's disk (os.tmpdir() here is ext4, not tmpfs), so commits really fsync.
      // Named after the namespace, so worker processes of the scaling workload open the same file.
      const dir = join(tmpdir(), ns);
      mkdirSync(dir, { recursive: true });
      const synchronous = kind === 'sqlite' ? 'full' : 'normal';
      return { store: sqliteStore({ path: join(dir, 'bench.db'), synchronous }), drop: async () => rmSync(dir, { recursive: true, force: true }) };
    }
    case 'redis':
    case 'redis-aof': {
      const { redisStore } = await import('async-invoker/redis');
      const url = kind === 'redis' ? REDIS_URL : redisAofUrl();
      return { store: redisStore({ url, prefix: ns }), drop: () => deleteKeys(ns, url) };
    }
    case 'postgres': {
      const { postgresStore } = await import('async-invoker/postgres');
      return { store: postgresStore({ connectionString: PG_URL, schema: ns }), drop: () => dropSchemas(ns) };
    }
    default:
      throw new Error(`unknown store ${kind}`);
  }
}

export async function open(kind, { concurrency, ns, limits, tracing }) {
  const { store, drop } = await createStore(kind, ns);
  const invoker = createInvoker(tracing === undefined ? { store, concurrency } : { store, concurrency, tracing });
  let ran = 0;
  let target = Infinity;
  let allRan = () => {};
  invoker.register(
    'noop',
    () => {
      if (++ran === target) allRan();
      return null;
    },
    limits ? { limits } : {},
  );
  // The first call opens connections and runs migrations: not part of any measurement.
  await invoker.getInvocation('warm-up');
  return {
    async run(n) {
      ran = 0;
      target = n;
      const done = new Promise((resolve) => (allRan = resolve));
      await Promise.all(Array.from({ length: n }, (_, i) => invoker.invokeAsync('noop', { i })));
      await done;
      // Settlements are written after the handler returns: count them in, as the peers'
      // "completed" events do.
      await invoker.idle();
    },
    enqueueOne: (i) => invoker.invokeAsync('noop', { i }),
    // invokeAsyncMany: one store call per 1,000 items (one transaction, statement or script).
    async enqueueBulk(n) {
      for (let at = 0; at < n; at += 10_000) {
        await invoker.invokeAsyncMany(Array.from({ length: Math.min(10_000, n - at) }, (_, i) => ({ name: 'noop', payload: { i: at + i } })));
      }
    },
    async close() {
      await invoker.close({ timeoutSeconds: 5 });
      await drop();
    },
  };
}
