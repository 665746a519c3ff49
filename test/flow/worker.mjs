// A worker process for the flow-control tests. Plain JS over dist/ (run `npm run build` first).
// Environment:
//   FLOW_STORE_KIND     sqlite | redis | postgres   (imports dist/stores/<kind>/index.js, calls <kind>Store)
//   FLOW_STORE_OPTIONS  JSON options for that factory
//   FLOW_FUNCTION       the function to register
//   FLOW_LIMITS         JSON limits: { concurrency?, perSecond?, groupConcurrency?, groupBy?: payload field }
//   FLOW_CONCURRENCY    handlers at once in this process
//   FLOW_LEASE_SECONDS  the invoker's lease
//   FLOW_LEDGER         file each attempt appends "start|end <requestId> <group> <pid> <epoch ms>" to;
//                       the worker adds "held - <reason> <pid> <epoch ms>" the first time a limit holds it back
//   FLOW_GATE           file: an attempt ends only once it exists (the test holds attempts running)
import { appendFileSync, existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const kind = process.env.FLOW_STORE_KIND;
const dist = new URL('../../dist/', import.meta.url).href;
const { createInvoker } = await import(new URL('index.js', dist).href);
const storeModule = await import(new URL(`stores/${kind}/index.js`, dist).href);
const store = storeModule[`${kind}Store`](JSON.parse(process.env.FLOW_STORE_OPTIONS ?? '{}'));
const ledger = process.env.FLOW_LEDGER;
const gate = process.env.FLOW_GATE;
const { groupBy, ...limits } = JSON.parse(process.env.FLOW_LIMITS ?? '{}');

const invoker = createInvoker({
  store,
  leaseSeconds: Number(process.env.FLOW_LEASE_SECONDS ?? 5),
  concurrency: Number(process.env.FLOW_CONCURRENCY ?? 8),
});
invoker.on('error', (event) => console.error(`[flow worker ${process.pid}]`, event.error));
const line = (what, ctx, payload) =>
  appendFileSync(ledger, `${what} ${ctx.requestId} ${payload.group ?? '-'} ${process.pid} ${Date.now()}\n`);
let held = false;
invoker.on('throttled', (event) => {
  if (held) return;
  held = true;
  appendFileSync(ledger, `held - ${event.reason} ${process.pid} ${Date.now()}\n`);
});
invoker.register(
  process.env.FLOW_FUNCTION,
  async (payload, ctx) => {
    line('start', ctx, payload);
    // Waiting on a condition the test controls, not on a duration.
    while (!existsSync(gate)) await sleep(5);
    line('end', ctx, payload);
    return null;
  },
  {
    limits: groupBy === undefined ? limits : { ...limits, groupBy: (payload) => payload[groupBy] },
    maxLostAttempts: 10,
    retryBackoff: { initialDelayMs: 50, maxDelayMs: 200, jitter: 'none' },
  },
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
