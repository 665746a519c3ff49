// async-invoker itself, on each store, behind the same small adapter the peers implement:
//   run(n)          enqueue n no-op invocations with Promise.all, resolve once all ran and settled
//   enqueueOne(i)   one acknowledged (durable) enqueue
//   enqueueBulk(n)  n enqueues at once (the invoker batches them into store round trips)
//   close()         stop and remove everything this adapter created
// Imported by package name: the bench measures what users import (dist/, through the exports map).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInvoker, memoryStore } from 'async-invoker';
import { PG_URL, REDIS_URL, deleteKeys, dropSchemas } from '../lib/services.js';

export async function createStore(kind, ns) {
  switch (kind) {
    case 'memory':
      return { store: memoryStore(), drop: async () => {} };
    case 'sqlite': {
      const { sqliteStore } = await import('async-invoker/sqlite');
      // On the machine's disk (os.tmpdir() here is ext4, not tmpfs), so commits really fsync.
      const dir = mkdtempSync(join(tmpdir(), `${ns}-`));
      return { store: sqliteStore({ path: join(dir, 'bench.db') }), drop: async () => rmSync(dir, { recursive: true, force: true }) };
    }
    case 'redis': {
      const { redisStore } = await import('async-invoker/redis');
      return { store: redisStore({ url: REDIS_URL, prefix: ns }), drop: () => deleteKeys(ns) };
    }
    case 'postgres': {
      const { postgresStore } = await import('async-invoker/postgres');
      return { store: postgresStore({ connectionString: PG_URL, schema: ns }), drop: () => dropSchemas(ns) };
    }
    default:
      throw new Error(`unknown store ${kind}`);
  }
}

export async function open(kind, { concurrency, ns, limits }) {
  const { store, drop } = await createStore(kind, ns);
  const invoker = createInvoker({ store, concurrency });
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
    enqueueBulk: (n) => Promise.all(Array.from({ length: n }, (_, i) => invoker.invokeAsync('noop', { i }))),
    async close() {
      await invoker.close({ timeoutSeconds: 5 });
      await drop();
    },
  };
}
