// Workload: what a global limit costs. End-to-end no-op invocations (as in e2e.js) with
// `limits.concurrency` equal to the worker's concurrency (the limit never binds, so the
// difference is the price of enforcing it in every claim), beside the same run with no limit,
// on the same store. Rounds alternate between the two so load on the machine falls on both.
import { median } from '../lib/stats.js';
import { e2eSize, loadSystem } from '../lib/systems.js';

export const CONCURRENCIES = [16, 64];
const ROUNDS = 5;

export async function run({ system, quick, n: nOverride, ns, concurrencies = CONCURRENCIES }) {
  const open = await loadSystem(system);
  const rows = [];
  for (const concurrency of concurrencies) {
    const n = nOverride ?? e2eSize(system, concurrency, quick);
    const free = await open({ concurrency, ns: `${ns}_c${concurrency}_free` });
    const limited = await open({ concurrency, ns: `${ns}_c${concurrency}_lim`, limits: { concurrency } });
    try {
      const rate = async (adapter, count) => {
        const start = performance.now();
        await adapter.run(count);
        return (count / (performance.now() - start)) * 1000;
      };
      const warmup = Math.max(2, Math.round(n / 5));
      await rate(free, warmup);
      await rate(limited, warmup);
      const freeRates = [];
      const limitedRates = [];
      for (let i = 0; i < ROUNDS; i++) {
        freeRates.push(await rate(free, n));
        limitedRates.push(await rate(limited, n));
      }
      const unlimited = median(freeRates);
      const opsPerSec = median(limitedRates);
      rows.push({ workload: 'limited', system, concurrency, n, opsPerSec, ratio: opsPerSec / unlimited, vs: 'no limit', note: `no limit: ${Math.round(unlimited)}/s` });
    } finally {
      await free.close();
      await limited.close();
    }
  }
  return rows;
}
