// Workload: how a durable store scales with worker processes. One producer (this process,
// concurrency 0) enqueues n no-op invocations at once; 1, 2 or 4 worker processes of
// concurrency 16 each share the store and run them. A round ends when the workers have run all
// n (counted from their reports). On a 2-core machine more processes than cores mostly shows
// where a store saturates, not how far it would scale on more cores.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInvoker } from 'async-invoker';
import { measure, waitFor } from '../lib/rounds.js';
import { createStore } from '../systems/ours.js';

export const PROCESSES = [1, 2, 4];
const WORKER_CONCURRENCY = 16;
const WORKER = fileURLToPath(new URL('../lib/scale-worker.js', import.meta.url));

export async function run({ system, quick, n: nOverride, ns }) {
  const rows = [];
  for (const processes of PROCESSES) {
    const n = nOverride ?? (quick ? 1000 : 10_000);
    const space = `${ns}_p${processes}`;
    const { store, drop } = await createStore(system, space);
    const producer = createInvoker({ store, concurrency: 0 });
    producer.register('noop', () => null);
    const ran = new Array(processes).fill(0);
    const workers = [];
    try {
      for (let i = 0; i < processes; i++) {
        const child = fork(WORKER, [JSON.stringify({ system, ns: space, concurrency: WORKER_CONCURRENCY })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        workers.push(child);
        await new Promise((resolve, reject) => {
          child.on('message', (m) => (m.ready ? resolve() : (ran[i] = m.ran)));
          child.once('exit', (code) => reject(new Error(`scaling worker exited with ${code}`)));
        });
      }
      const total = () => ran.reduce((a, b) => a + b, 0);
      const once = async (count) => {
        const before = total();
        const start = performance.now();
        for (let at = 0; at < count; at += 1000) {
          const items = Array.from({ length: Math.min(1000, count - at) }, (_, i) => ({ name: 'noop', payload: { i: at + i } }));
          await producer.invokeAsyncMany(items);
        }
        await waitFor(() => total() - before >= count, `${count} runs`, 240_000, 2);
        return { ms: performance.now() - start };
      };
      const { opsPerSec } = await measure(once, n, { warmupN: Math.round(n / 5) });
      rows.push({ workload: 'scaling', system, concurrency: processes * WORKER_CONCURRENCY, n, opsPerSec, note: `${processes} worker process${processes > 1 ? 'es' : ''} × ${WORKER_CONCURRENCY}` });
    } finally {
      for (const child of workers) child.send('stop');
      await Promise.all(workers.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
      await producer.close();
      await drop();
    }
  }
  return rows;
}
