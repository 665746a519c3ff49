// Command-line flags of `npm run bench`. Kept apart from run.js so the smoke test and the
// README describe one parser. Both `--flag value` and `--flag=value` work (node's parseArgs).
import { parseArgs as parseNodeArgs } from 'node:util';

export const WORKLOADS = ['e2e', 'enqueue', 'delayed', 'retries', 'http', 'limited', 'scaling', 'tracing'];
// `sqlite-normal`: SQLite with synchronous=NORMAL; `redis-aof`: the Redis store on the bench's own
// Redis with appendfsync always (BullMQ is run on both Redis servers).
export const STORES = ['memory', 'sqlite', 'sqlite-normal', 'redis', 'redis-aof', 'postgres'];

const OPTIONS = {
  quick: { type: 'boolean' },
  only: { type: 'string' },
  stores: { type: 'string' },
  'no-peers': { type: 'boolean' },
  n: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean' },
};

export function parseArgs(argv) {
  let values;
  try {
    ({ values } = parseNodeArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new Error(`${error.message}; known flags: ${Object.keys(OPTIONS).map((k) => `--${k}`).join(' ')}`);
  }
  const list = (name, all) => {
    const value = values[name];
    if (value === undefined) return all;
    const items = value.split(',').map((s) => s.trim()).filter(Boolean);
    for (const item of items) if (!all.includes(item)) throw new Error(`--${name}: ${item} is not one of ${all.join(', ')}`);
    return items;
  };
  const n = values.n;
  if (n !== undefined && !(Number.isInteger(Number(n)) && Number(n) > 0)) throw new Error(`--n: expected a positive integer, got ${n}`);
  return {
    help: values.help === true,
    quick: values.quick === true,
    only: list('only', WORKLOADS),
    stores: list('stores', STORES),
    peers: values['no-peers'] !== true,
    // Overrides every workload's invocation count: for the CI smoke run, not for published figures.
    n: n === undefined ? undefined : Number(n),
    out: values.out,
  };
}

export const USAGE = `npm run bench [-- flags]   (--flag value and --flag=value both work)
  --quick                 small sizes, finishes in under 2 minutes
  --only w1,w2            workloads: ${WORKLOADS.join(', ')}
  --stores s1,s2          stores: ${STORES.join(', ')} (default all; unreachable servers are skipped)
  --no-peers              skip p-queue, BullMQ, graphile-worker and pg-boss
  (redis-aof and BullMQ's matched rows run on a private redis-server with appendfsync always, port 6391)
  --n <count>             override every invocation count (smoke runs only)
  --out <path>            write the JSON here instead of bench/results/latest.json`;
