// Who is measured, which server each needs, and the peer each of our stores is compared with.
// Sizes are for a 2-core machine: large enough that a round lasts well over 100 ms, small
// enough that the full run stays under 15 minutes.
import { POLL_SECONDS } from '../peers/pg-boss.js';

export const SYSTEMS = {
  memory: { ours: true, needs: undefined, module: '../systems/ours.js' },
  sqlite: { ours: true, needs: undefined, module: '../systems/ours.js' },
  redis: { ours: true, needs: 'redis', module: '../systems/ours.js' },
  postgres: { ours: true, needs: 'postgres', module: '../systems/ours.js' },
  'p-queue': { ours: false, needs: undefined, module: '../peers/p-queue.js' },
  bullmq: { ours: false, needs: 'redis', module: '../peers/bullmq.js' },
  'graphile-worker': { ours: false, needs: 'postgres', module: '../peers/graphile-worker.js' },
  'pg-boss': { ours: false, needs: 'postgres', module: '../peers/pg-boss.js' },
};

/** Each store's yardstick: the row's ratio is ours / the best of these. */
export const PEERS_OF = {
  memory: ['p-queue'],
  sqlite: ['bullmq'],
  redis: ['bullmq'],
  postgres: ['graphile-worker', 'pg-boss'],
};

export const inProcess = (system) => system === 'memory' || system === 'p-queue';

/** Invocations per round of the end-to-end workload. */
export function e2eSize(system, concurrency, quick) {
  if (inProcess(system)) return quick ? 20_000 : 100_000;
  // pg-boss runs at most `concurrency` jobs per poll interval: size a round to a few polls.
  if (system === 'pg-boss') return Math.max(2, Math.round((concurrency / POLL_SECONDS) * (quick ? 1 : 3)));
  if (concurrency === 1) return quick ? 200 : 2000;
  return quick ? 500 : 10_000;
}

export function serialSize(system, quick) {
  if (inProcess(system)) return quick ? 5000 : 20_000;
  return quick ? 200 : 3000;
}

export function bulkSize(system, quick) {
  if (inProcess(system)) return quick ? 5000 : 20_000;
  return quick ? 1000 : 10_000;
}

/** Loads a system's adapter: `open({ concurrency, ns })`. */
export async function loadSystem(system) {
  const mod = await import(SYSTEMS[system].module);
  return SYSTEMS[system].ours ? (options) => mod.open(system, options) : mod.open;
}
