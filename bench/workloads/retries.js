// Workload 4: n invocations on the memory store that fail twice, then succeed, with a constant
// 10 ms backoff. Compared with the ideal, from a no-op run of n measured just before (same store
// and concurrency), taking t: the last invocation cannot finish before t + 2 x 10 ms, and the
// 3n attempts cannot take less than 3t, so ideal = max(t + 20 ms, 3t) (one invocation's wait
// overlaps others' attempts). Lateness of the retry timer is (attempt start) - (the retryAt
// announced by the "retrying" event).
import { createInvoker, memoryStore } from 'async-invoker';
import { median, percentile } from '../lib/stats.js';

const CONCURRENCY = 64;
const BACKOFF_MS = 10;
const backoff = { initialDelayMs: BACKOFF_MS, multiplier: 1, maxDelayMs: BACKOFF_MS, jitter: 'none' };
// One error object for every failure: building stack traces is the handler's cost, not the
// retry machinery's.
const FLAKY = new Error('fails on attempts 1 and 2');

export async function run({ quick, n: nOverride }) {
  const n = nOverride ?? (quick ? 2000 : 10_000);
  await noopRun(Math.round(n / 5));
  const noopMs = median([await noopRun(n), await noopRun(n), await noopRun(n)]);
  const idealMs = Math.max(noopMs + 2 * BACKOFF_MS, 3 * noopMs);
  await flakyRun(Math.round(n / 5)); // warm-up
  const rounds = [];
  for (let i = 0; i < 3; i++) rounds.push(await flakyRun(n));
  const totalMs = median(rounds.map((r) => r.ms));
  return [
    {
      workload: 'retries',
      system: 'memory',
      concurrency: CONCURRENCY,
      n,
      opsPerSec: (n / totalMs) * 1000,
      p50Ms: median(rounds.map((r) => r.p50)),
      p99Ms: median(rounds.map((r) => r.p99)),
      ratio: idealMs / totalMs,
      totalMs,
      idealMs,
      note: 'ratio = ideal / total time; p50/p99 = retry timer lateness',
    },
  ];
}

async function noopRun(n) {
  const invoker = createInvoker({ store: memoryStore(), concurrency: CONCURRENCY });
  let ran = 0;
  let allRan;
  const done = new Promise((resolve) => (allRan = resolve));
  invoker.register('noop', () => (++ran === n && allRan(), null));
  const start = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => invoker.invokeAsync('noop', { i })));
  await done;
  await invoker.idle();
  const ms = performance.now() - start;
  await invoker.close();
  return ms;
}

async function flakyRun(n) {
  const invoker = createInvoker({ store: memoryStore(), concurrency: CONCURRENCY });
  const retryAt = new Map();
  const lateness = [];
  let succeeded = 0;
  let allDone;
  const done = new Promise((resolve) => (allDone = resolve));
  invoker.on('retrying', (event) => retryAt.set(event.requestId, event.retryAt));
  invoker.register(
    'flaky',
    (_payload, ctx) => {
      if (ctx.attempt > 1) {
        const due = retryAt.get(ctx.requestId);
        if (due !== undefined) lateness.push(Date.now() - due);
      }
      if (ctx.attempt < 3) throw FLAKY;
      if (++succeeded === n) allDone();
      return null;
    },
    { maxAsyncRetryAttempts: 2, retryBackoff: backoff },
  );
  const start = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => invoker.invokeAsync('flaky', { i })));
  await done;
  await invoker.idle();
  const ms = performance.now() - start;
  await invoker.close();
  return { ms, p50: percentile(lateness, 50), p99: percentile(lateness, 99) };
}
