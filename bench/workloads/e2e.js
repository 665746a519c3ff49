// Workload 1: end-to-end no-op invocations per second. Each round enqueues all n at once
// (Promise.all, one call per invocation) into a system whose worker runs at the given
// concurrency, and ends when all have run and been recorded as done.
import { measure } from '../lib/rounds.js';
import { e2eSize, inProcess, loadSystem } from '../lib/systems.js';

export const CONCURRENCIES = [1, 16, 64];

export async function run({ system, quick, n: nOverride, ns, concurrencies = CONCURRENCIES }) {
  const open = await loadSystem(system);
  const rows = [];
  for (const concurrency of concurrencies) {
    const n = nOverride ?? e2eSize(system, concurrency, quick);
    // A fresh namespace per concurrency: no leftovers from the previous group in the queue.
    const adapter = await open({ concurrency, ns: `${ns}_c${concurrency}` });
    try {
      const once = async (count) => {
        const start = performance.now();
        await adapter.run(count);
        return { ms: performance.now() - start };
      };
      // In-process rounds last a fraction of a second: five of them cost little and steady the median.
      const rounds = inProcess(system) ? 5 : 3;
      const { opsPerSec } = await measure(once, n, { warmupN: Math.max(2, Math.min(n, Math.round(n / 5))), rounds });
      rows.push({ workload: 'e2e', system, concurrency, n, opsPerSec });
    } finally {
      await adapter.close();
    }
  }
  return rows;
}
