// Workload 3: many delayed invocations pending in the memory store.
//  - heap bytes per pending invocation: heapUsed after full GCs, before vs after enqueueing n
//    (payload: one number), with a producer-only invoker so nothing fires while measuring;
//  - lateness: a worker invoker on the same store then runs them; each handler records
//    Date.now() - scheduledAt (the payload is the scheduled time).
// delaySeconds is a whole number, so the due times are spread by pacing the enqueue at `rate`
// per second: they then fall due at that same rate, below what the worker can run, and the
// lateness measures the timer and the claim path rather than a backlog.
import { createInvoker, memoryStore } from 'async-invoker';
import { percentile, median } from '../lib/stats.js';
import { waitFor } from '../lib/rounds.js';

const CONCURRENCY = 64;
const TICK_MS = 10;

export async function run({ quick, n: nOverride }) {
  if (typeof global.gc !== 'function') throw new Error('the delayed workload needs node --expose-gc');
  const n = nOverride ?? (quick ? 20_000 : 1_000_000);
  const rate = quick ? 20_000 : 50_000;
  await once(Math.max(1000, Math.round(n / 10)), rate); // warm-up
  const rounds = [];
  for (let i = 0; i < 3; i++) rounds.push(await once(n, rate));
  return [
    {
      workload: 'delayed',
      system: 'memory',
      concurrency: CONCURRENCY,
      n,
      opsPerSec: median(rounds.map((r) => r.firedPerSec)),
      p50Ms: median(rounds.map((r) => r.p50)),
      p99Ms: median(rounds.map((r) => r.p99)),
      bytesPerPending: median(rounds.map((r) => r.bytesPerPending)),
      note: `due times spread at ${rate}/s; ${rounds.some((r) => r.lateStart) ? 'A ROUND WAS STILL ENQUEUEING WHEN DUE; ' : ''}max lateness ${Math.max(...rounds.map((r) => r.max))} ms`,
    },
  ];
}

async function once(n, rate) {
  const store = memoryStore();
  // Both invokers exist before the "before" reading, so the difference is the pending
  // invocations alone. The worker sleeps on its one timer until the first is due.
  const producer = createInvoker({ store, concurrency: 0 });
  producer.register('tick', () => null);
  const worker = createInvoker({ store, concurrency: CONCURRENCY });
  const lateness = new Float64Array(n);
  let fired = 0;
  let lastFire = 0;
  worker.register('tick', (scheduledAt) => {
    lastFire = Date.now();
    lateness[fired++] = lastFire - scheduledAt;
    return null;
  });
  // Long enough (a margin for a loaded machine, and for full GCs of a large heap) that the paced
  // enqueue and the heap reading end before the first one is due; otherwise the round is flagged.
  const delaySeconds = Math.ceil((n / rate) * 1.3 + 1 + n / 250_000);

  heapSettle();
  const before = process.memoryUsage().heapUsed;
  const start = Date.now();
  const firstDue = start + delaySeconds * 1000;
  for (let sent = 0; sent < n; ) {
    // Catch up to the planned count for the time elapsed, so a slow tick does not stretch the
    // spread of due times.
    const planned = Math.min(n, Math.ceil(((Date.now() - start + TICK_MS) * rate) / 1000));
    for (; sent < planned; sent++) {
      // The store stamps scheduledAt = now + delay in this same synchronous call.
      producer.invokeAsync('tick', Date.now() + delaySeconds * 1000, { delaySeconds });
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  heapSettle();
  const bytesPerPending = (process.memoryUsage().heapUsed - before) / n;
  const lateStart = fired > 0 || Date.now() > firstDue;

  await waitFor(() => fired >= n, `${n} delayed invocations to fire`, delaySeconds * 1000 + (n / rate) * 1000 + 60_000, 20);
  await worker.idle();
  await worker.close();
  await producer.close();
  let max = 0;
  for (let i = 0; i < fired; i++) if (lateness[i] > max) max = lateness[i];
  return {
    bytesPerPending,
    p50: percentile(lateness, 50),
    p99: percentile(lateness, 99),
    max,
    firedPerSec: (n / Math.max(1, lastFire - firstDue)) * 1000,
    lateStart,
  };
}

function heapSettle() {
  // Several passes: the first may only promote objects that a later one frees.
  for (let i = 0; i < 3; i++) global.gc();
}
