// Who is measured, which server each needs, and the peer each of our stores is compared with.
// Sizes are for a 2-core machine: large enough that a round lasts well over 100 ms, small
// enough that the full run stays under 15 minutes.
import { POLL_SECONDS } from '../peers/pg-boss.js';

// Durability, named on every row: what an acknowledged job survives.
const MEMORY = 'none: process memory';
const FSYNC_COMMIT = 'fsync per commit';
const REDIS_NONE = 'none: Redis persists nothing';
const REDIS_AOF = 'fsync per write: AOF appendfsync always';
const WAL_NORMAL = 'process crash, not power loss: WAL, synchronous=NORMAL';
const PG_DEFAULT = 'fsync per commit: synchronous_commit on (default)';

export const SYSTEMS = {
  memory: { ours: true, needs: undefined, module: '../systems/ours.js', durability: MEMORY },
  sqlite: { ours: true, needs: undefined, module: '../systems/ours.js', durability: `${FSYNC_COMMIT}: synchronous=FULL (default)` },
  'sqlite-normal': { ours: true, needs: undefined, module: '../systems/ours.js', durability: WAL_NORMAL },
  redis: { ours: true, needs: 'redis', module: '../systems/ours.js', durability: REDIS_NONE },
  'redis-aof': { ours: true, needs: 'redis-aof', module: '../systems/ours.js', durability: REDIS_AOF },
  postgres: { ours: true, needs: 'postgres', module: '../systems/ours.js', durability: PG_DEFAULT },
  'p-queue': { ours: false, needs: undefined, module: '../peers/p-queue.js', durability: MEMORY },
  bullmq: { ours: false, needs: 'redis', module: '../peers/bullmq.js', durability: REDIS_NONE },
  'bullmq-aof': { ours: false, needs: 'redis-aof', module: '../peers/bullmq-aof.js', durability: REDIS_AOF },
  'graphile-worker': { ours: false, needs: 'postgres', module: '../peers/graphile-worker.js', durability: PG_DEFAULT },
  'pg-boss': { ours: false, needs: 'postgres', module: '../peers/pg-boss.js', durability: PG_DEFAULT },
};

/**
 * Each store's yardstick, at matched durability: the row's ratio is ours / the best of these.
 * SQLite's default fsyncs every commit, as BullMQ on a Redis with appendfsync always does;
 * SQLite `normal` survives what BullMQ on a Redis without persistence survives, and more.
 */
export const PEERS_OF = {
  memory: ['p-queue'],
  sqlite: ['bullmq-aof'],
  'sqlite-normal': ['bullmq'],
  redis: ['bullmq'],
  'redis-aof': ['bullmq-aof'],
  postgres: ['graphile-worker', 'pg-boss'],
};

/**
 * The order the end-to-end and enqueue cases run in: each store, and each peer as soon as every
 * selected store compared with it has run. The machine's speed drifts over minutes, so a ratio's
 * two sides run close together (memory, p-queue, ..., redis, bullmq, ...), not a quarter of an
 * hour apart as they did with every peer after every store.
 */
export function runOrder(stores, peers) {
  const order = [];
  const waiting = new Set(peers);
  for (const store of stores) {
    order.push(store);
    for (const peer of PEERS_OF[store]) {
      const compared = stores.filter((s) => PEERS_OF[s].includes(peer));
      if (waiting.has(peer) && compared.every((s) => order.includes(s))) {
        order.push(peer);
        waiting.delete(peer);
      }
    }
  }
  return [...order, ...waiting];
}

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
