// Two variants of the end-to-end workload on the same system, measured in alternating rounds
// (so load on the machine falls on both alike) after a warm-up each: the price of a feature is
// the ratio of their medians. Used by the limited and tracing workloads.
import { median } from './stats.js';
import { e2eSize, loadSystem } from './systems.js';

const ROUNDS = 7;

/**
 * `variants`: { subject, baseline } adapter options beside { concurrency, ns }. Resolves to one
 * { concurrency, n, subject, baseline } per concurrency, the medians in invocations per second.
 */
export async function alternating({ system, quick, n: nOverride, ns }, concurrencies, variants) {
  const open = await loadSystem(system);
  const out = [];
  for (const concurrency of concurrencies) {
    const n = nOverride ?? e2eSize(system, concurrency, quick);
    const subject = await open({ concurrency, ns: `${ns}_c${concurrency}_s`, ...variants.subject });
    const baseline = await open({ concurrency, ns: `${ns}_c${concurrency}_b`, ...variants.baseline });
    try {
      const rate = async (adapter, count) => {
        const start = performance.now();
        await adapter.run(count);
        return (count / (performance.now() - start)) * 1000;
      };
      const warmup = Math.max(2, Math.round(n / 5));
      await rate(subject, warmup);
      await rate(baseline, warmup);
      const subjectRates = [];
      const baselineRates = [];
      for (let i = 0; i < ROUNDS; i++) {
        // Alternate which goes first, so neither always runs on a warmer heap.
        if (i % 2) baselineRates.push(await rate(baseline, n));
        subjectRates.push(await rate(subject, n));
        if (!(i % 2)) baselineRates.push(await rate(baseline, n));
      }
      out.push({ concurrency, n, subject: median(subjectRates), baseline: median(baselineRates) });
    } finally {
      await subject.close();
      await baseline.close();
    }
  }
  return out;
}
