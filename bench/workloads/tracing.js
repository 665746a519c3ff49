// Workload: what OpenTelemetry instrumentation costs when nobody traces. End-to-end no-op
// invocations on the memory store with tracing left on (@opentelemetry/api is installed, no SDK
// registered: every span is a no-op) beside the same run with `tracing: false`, in alternating
// rounds.
import { alternating } from '../lib/alternating.js';

export const CONCURRENCIES = [1, 16];

export async function run(spec) {
  const measured = await alternating(spec, spec.concurrencies ?? CONCURRENCIES, { subject: {}, baseline: { tracing: false } });
  return measured.map(({ concurrency, n, subject, baseline }) => ({
    workload: 'tracing', system: spec.system, concurrency, n, opsPerSec: subject, ratio: subject / baseline, vs: 'tracing: false', note: `tracing: false: ${Math.round(baseline)}/s; no SDK registered`,
  }));
}
