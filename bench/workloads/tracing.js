// Workload: what OpenTelemetry instrumentation costs when nobody traces. End-to-end no-op
// invocations on the memory store (as in e2e.js) with tracing left on (@opentelemetry/api is
// installed, no SDK registered: every span is a no-op) beside the same run with
// `tracing: false`. Rounds alternate between the two, so load on the machine falls on both.
import { median } from '../lib/stats.js';
import { e2eSize, loadSystem } from '../lib/systems.js';

export const CONCURRENCIES = [1, 16];
const ROUNDS = 7;

export async function run({ system, quick, n: nOverride, ns, concurrencies = CONCURRENCIES }) {
  const open = await loadSystem(system);
  const rows = [];
  for (const concurrency of concurrencies) {
    const n = nOverride ?? e2eSize(system, concurrency, quick);
    const on = await open({ concurrency, ns: `${ns}_c${concurrency}_on` });
    const off = await open({ concurrency, ns: `${ns}_c${concurrency}_off`, tracing: false });
    try {
      const rate = async (adapter, count) => {
        const start = performance.now();
        await adapter.run(count);
        return (count / (performance.now() - start)) * 1000;
      };
      const warmup = Math.max(2, Math.round(n / 5));
      await rate(on, warmup);
      await rate(off, warmup);
      const onRates = [];
      const offRates = [];
      for (let i = 0; i < ROUNDS; i++) {
        // Alternate which goes first, so neither always runs on a warmer heap.
        if (i % 2) offRates.push(await rate(off, n));
        onRates.push(await rate(on, n));
        if (!(i % 2)) offRates.push(await rate(off, n));
      }
      const opsPerSec = median(onRates);
      const without = median(offRates);
      rows.push({ workload: 'tracing', system, concurrency, n, opsPerSec, ratio: opsPerSec / without, vs: 'tracing: false', note: `tracing: false: ${Math.round(without)}/s; no SDK registered` });
    } finally {
      await on.close();
      await off.close();
    }
  }
  return rows;
}
