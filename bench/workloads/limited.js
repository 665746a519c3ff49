// Workload: what a global limit costs. End-to-end no-op invocations (as in e2e.js) with
// `limits.concurrency` equal to the worker's concurrency (the limit never binds, so the
// difference is the price of enforcing it in every claim), beside the same run with no limit,
// on the same store, in alternating rounds.
import { alternating } from '../lib/alternating.js';

export const CONCURRENCIES = [16, 64];

export async function run(spec) {
  const concurrencies = spec.concurrencies ?? CONCURRENCIES;
  const measured = [];
  for (const concurrency of concurrencies) {
    measured.push(...(await alternating(spec, [concurrency], { subject: { limits: { concurrency } }, baseline: {} })));
  }
  return measured.map(({ concurrency, n, subject, baseline }) => ({
    workload: 'limited', system: spec.system, concurrency, n, opsPerSec: subject, ratio: subject / baseline, vs: 'no limit', note: `no limit: ${Math.round(baseline)}/s`,
  }));
}
