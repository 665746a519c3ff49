// Command-line flags of `npm run bench`. Kept apart from run.js so the smoke test and the
// README describe one parser.
export const WORKLOADS = ['e2e', 'enqueue', 'delayed', 'retries', 'http'];
export const STORES = ['memory', 'sqlite', 'redis', 'postgres'];

export function parseArgs(argv) {
  const flags = new Map();
  for (const arg of argv) {
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg} (flags are --name or --name=value)`);
    const [name, ...rest] = arg.slice(2).split('=');
    flags.set(name, rest.length ? rest.join('=') : true);
  }
  const known = new Set(['quick', 'only', 'stores', 'no-peers', 'n', 'out', 'help']);
  for (const name of flags.keys()) if (!known.has(name)) throw new Error(`unknown flag --${name}; known: ${[...known].map((k) => `--${k}`).join(' ')}`);
  const list = (name, all) => {
    const value = flags.get(name);
    if (value === undefined || value === true) return all;
    const items = String(value).split(',').map((s) => s.trim()).filter(Boolean);
    for (const item of items) if (!all.includes(item)) throw new Error(`--${name}: ${item} is not one of ${all.join(', ')}`);
    return items;
  };
  const n = flags.get('n');
  if (n !== undefined && !(Number.isInteger(Number(n)) && Number(n) > 0)) throw new Error(`--n: expected a positive integer, got ${n}`);
  return {
    help: flags.has('help'),
    quick: flags.has('quick'),
    only: list('only', WORKLOADS),
    stores: list('stores', STORES),
    peers: !flags.has('no-peers'),
    // Overrides every workload's invocation count: for the CI smoke run, not for published figures.
    n: n === undefined ? undefined : Number(n),
    out: typeof flags.get('out') === 'string' ? flags.get('out') : undefined,
  };
}

export const USAGE = `npm run bench [-- flags]
  --quick                 small sizes, finishes in under 2 minutes
  --only=w1,w2            workloads: ${WORKLOADS.join(', ')}
  --stores=s1,s2          stores: ${STORES.join(', ')} (default all; unreachable servers are skipped)
  --no-peers              skip p-queue, BullMQ, graphile-worker and pg-boss
  --n=<count>             override every invocation count (smoke runs only)
  --out=<path>            write the JSON here instead of bench/results/latest.json`;
