// Workload 2: how fast a producer gets acknowledgements. Serial: one enqueue at a time, each
// awaited (for durable stores, each is committed before the next starts). Bulk: n at once with
// the system's best tool (invokeAsyncMany for us, addBulk / addJobs / insert for the
// peers). No worker runs: the jobs stay queued and are dropped with the namespace.
import { measure } from '../lib/rounds.js';
import { bulkSize, loadSystem, serialSize } from '../lib/systems.js';

export async function run({ system, quick, n: nOverride, ns }) {
  const open = await loadSystem(system);
  const adapter = await open({ concurrency: 0, ns: `${ns}_enq` });
  const rows = [];
  try {
    const serialN = nOverride ?? serialSize(system, quick);
    const serial = await measure(async (count) => {
      const start = performance.now();
      for (let i = 0; i < count; i++) await adapter.enqueueOne(i);
      return { ms: performance.now() - start };
    }, serialN);
    rows.push({ workload: 'enqueue-serial', system, concurrency: 1, n: serialN, opsPerSec: serial.opsPerSec });

    const bulkN = nOverride ?? bulkSize(system, quick);
    const bulk = await measure(async (count) => {
      const start = performance.now();
      await adapter.enqueueBulk(count);
      return { ms: performance.now() - start };
    }, bulkN);
    rows.push({ workload: 'enqueue-bulk', system, concurrency: bulkN, n: bulkN, opsPerSec: bulk.opsPerSec });
  } finally {
    await adapter.close();
  }
  return rows;
}
