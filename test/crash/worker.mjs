// A worker process for the crash tests. Plain JS over dist/ (run `npm run build` first).
// Environment:
//   CRASH_STORE_KIND     sqlite | redis | postgres   (imports dist/stores/<kind>/index.js, calls <kind>Store)
//   CRASH_STORE_OPTIONS  JSON options for that factory
//   CRASH_LEDGER         file each attempt appends "<requestId> <attempt> <pid>" to, before it works
//   CRASH_FUNCTION       function name to register
//   CRASH_WORK_MS        how long each attempt takes after its ledger line (default 20)
//   CRASH_CONCURRENCY    handlers at once (default 16)
//   CRASH_DIST           the built library to import (default ../../dist)
//   CRASH_DEBUG          set: log every claim, settle, heartbeat and signal
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const kind = process.env.CRASH_STORE_KIND;
const dist = process.env.CRASH_DIST ? `file://${process.env.CRASH_DIST}/` : new URL('../../dist/', import.meta.url).href;
const { createInvoker } = await import(new URL('index.js', dist).href);
const storeModule = await import(new URL(`stores/${kind}/index.js`, dist).href);
const store = storeModule[`${kind}Store`](JSON.parse(process.env.CRASH_STORE_OPTIONS ?? '{}'));
const ledger = process.env.CRASH_LEDGER;
const workMs = Number(process.env.CRASH_WORK_MS ?? 20);

if (process.env.CRASH_DEBUG) {
  for (const m of ['claim', 'settle', 'heartbeat']) {
    const orig = store[m].bind(store);
    store[m] = async (arg) => {
      if (m === 'claim') console.log(process.pid, 'claim start', Date.now() % 100000, JSON.stringify(arg.slots));
      const r = await orig(arg);
      console.log(process.pid, m, Date.now() % 100000, JSON.stringify(r).replace(/"record":\{[^}]*\}/g, '').slice(0, 300));
      return r;
    };
  }
  store.subscribe((sig) => console.log(process.pid, 'signal', Date.now() % 100000, JSON.stringify(sig)));
}
const invoker = createInvoker({ store, leaseSeconds: 2, concurrency: Number(process.env.CRASH_CONCURRENCY ?? 16) });
invoker.on('error', (event) => console.error(`[worker ${process.pid}]`, event.error));
invoker.register(
  process.env.CRASH_FUNCTION ?? 'crashy',
  async (_payload, ctx) => {
    // Written first: an attempt killed after this line shows up as a duplicate run.
    appendFileSync(ledger, `${ctx.requestId} ${ctx.attempt} ${process.pid}\n`);
    await sleep(workMs);
    return null;
  },
  // Lost attempts (WorkerLost) spend no retries, but maxLostAttempts bounds them: this test kills
  // workers on purpose, more often than any one invocation could be lost. Retry fast.
  { maxLostAttempts: 100, retryBackoff: { initialDelayMs: 50, maxDelayMs: 200, jitter: 'none' } },
);

// The invoker's timers are unref'd (they never hold an app open); a worker-only process holds itself.
const keepAlive = setInterval(() => {}, 60_000);
process.on('SIGTERM', () => {
  clearInterval(keepAlive);
  invoker.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
process.send?.({ type: 'ready', pid: process.pid });
