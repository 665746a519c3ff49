#!/usr/bin/env node
// `npm run bench`: async-invoker beside the libraries users would pick instead, in one run.
// Prints one table, the targets from issue 8 (MET / MISSED), and writes the same rows to
// bench/results/latest.json. Each (workload, system) runs in a child process with --expose-gc
// (the delayed workload reads the heap after full GCs), bounded in time, and everything a run
// creates on Redis and PostgreSQL carries the run id and is removed at the end.
//
//   npm run build && npm run bench [-- --quick] [-- --only=e2e,http] [-- --stores=memory,redis] [-- --no-peers]
import { execFileSync, fork } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, USAGE } from './lib/args.js';
import { machine } from './lib/machine.js';
import { addRatios, judgeTargets } from './lib/ratios.js';
import { startAofRedis } from './lib/private-redis.js';
import { deleteKeys, dropSchemas, probePostgres, probeRedis } from './lib/services.js';
import { PEERS_OF, SYSTEMS, runOrder } from './lib/systems.js';
import { markdownTable, textTable } from './lib/table.js';

const options = parseArgs(process.argv.slice(2));
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
// A fresh clone has no dist/: build it, since the bench measures what users import.
if (!existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)))) {
  console.error('dist/ is missing: running npm run build first');
  execFileSync('npm', ['run', 'build'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: 'inherit' });
}
try {
  await import('async-invoker');
} catch (error) {
  console.error(`cannot import async-invoker (${error.message}): run \`npm run build\` first`);
  process.exit(1);
}

const runId = `aibench${Date.now().toString(36)}`;
const out = options.out ?? fileURLToPath(new URL('./results/latest.json', import.meta.url));
const caseTimeoutMs = options.quick ? 90_000 : 300_000;
const startedAt = Date.now();
const log = (message) => process.stderr.write(`[bench ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);

// Which servers are there: a store or peer whose server is not reachable is skipped, with why.
const skipped = [];
const wanted = new Set([...options.stores, ...(options.peers ? options.stores.flatMap((s) => PEERS_OF[s]) : [])]);
const needs = (server) => [...wanted].some((system) => SYSTEMS[system].needs === server);
const needsRedis = needs('redis');
const needsPostgres = needs('postgres');
// The matched-durability Redis is the bench's own: started here, stopped at the end.
let aofRedis;
let aofDown;
if (needs('redis-aof')) {
  try {
    aofRedis = await startAofRedis();
    process.env.BENCH_REDIS_AOF_URL = aofRedis.url; // the case processes inherit it
  } catch (error) {
    aofDown = error.message;
  }
}
const down = {
  redis: needsRedis ? await probeRedis() : undefined,
  postgres: needsPostgres ? await probePostgres() : undefined,
  'redis-aof': aofDown,
};
const available = (system) => {
  const reason = SYSTEMS[system].needs && down[SYSTEMS[system].needs];
  if (reason && !skipped.some((s) => s.system === system)) skipped.push({ system, reason });
  return !reason;
};

const stores = options.stores.filter(available);
const peers = options.peers ? [...new Set(options.stores.flatMap((s) => PEERS_OF[s]))].filter(available) : [];
const cases = [];
for (const workload of options.only) {
  if (workload === 'e2e' || workload === 'enqueue') for (const system of runOrder(stores, peers)) cases.push({ workload, system });
  else if (workload === 'delayed' || workload === 'retries') {
    if (stores.includes('memory')) cases.push({ workload, system: 'memory' });
    else skipped.push({ system: 'memory', reason: `${workload} runs on the memory store only, not selected` });
  } else if (workload === 'tracing') {
    if (stores.includes('memory')) cases.push({ workload, system: 'memory' });
    else skipped.push({ system: 'memory', reason: 'tracing runs on the memory store only, not selected' });
  } else if (workload === 'scaling') {
    // Durable stores only: worker processes share the store (the peers' equivalents are left out).
    for (const system of stores) if (system !== 'memory') cases.push({ workload, system });
  } else if (workload === 'limited') {
    // Ours only: the peers' global limits are paid features (BullMQ Pro groups, Oban Pro).
    for (const system of stores) cases.push({ workload, system });
  } else if (workload === 'http') {
    if (stores.includes('sqlite')) cases.push({ workload, system: 'sqlite' });
    else skipped.push({ system: 'sqlite', reason: 'http runs on the SQLite store, not selected' });
  }
}
for (const { system, reason } of skipped) log(`skipped ${system}: ${reason}`);

const rows = [];
const failures = [];
try {
  for (const c of cases) {
    const t = Date.now();
    log(`${c.workload} ${c.system} ...`);
    try {
      const got = await runCase({ ...c, quick: options.quick, n: options.n, ns: `${runId}_${c.system.replace(/-/g, '')}_${c.workload}` });
      rows.push(...got);
      log(`${c.workload} ${c.system}: ${got.map((r) => `${r.system}@${r.concurrency} ${Math.round(r.opsPerSec)}/s`).join(', ')} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    } catch (error) {
      failures.push({ ...c, error: String(error.message ?? error).split('\n').slice(0, 6).join('\n') });
      log(`${c.workload} ${c.system} FAILED: ${error.message}`);
    }
  }
} finally {
  // Sweep anything a killed or failed case left behind.
  if (!down.postgres && needsPostgres) await dropSchemas(runId).catch((e) => log(`PostgreSQL sweep failed: ${e.message}`));
  if (!down.redis && needsRedis) await deleteKeys(runId).catch((e) => log(`Redis sweep failed: ${e.message}`));
  await aofRedis?.stop().catch((e) => log(`stopping the AOF Redis failed: ${e.message}`));
}

const order = ['e2e', 'scaling', 'limited', 'tracing', 'enqueue-serial', 'enqueue-bulk', 'delayed', 'retries', 'http'];
// Within a workload, stores before peers in the order selected; e2e grouped by concurrency.
const listed = [...stores, ...peers];
rows.sort((a, b) => order.indexOf(a.workload) - order.indexOf(b.workload) || (a.workload === 'e2e' ? a.concurrency - b.concurrency : 0) || listed.indexOf(a.system) - listed.indexOf(b.system));
for (const row of rows) row.durability ??= SYSTEMS[row.system]?.durability;
addRatios(rows);
const targets = judgeTargets(rows);
const result = {
  machine: machine(),
  node: process.version,
  date: new Date().toISOString(),
  quick: options.quick,
  rows: rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(2)) : v]))),
  targets,
  skipped,
  failures,
  durationSeconds: Math.round((Date.now() - startedAt) / 1000),
};
const m = result.machine;
const title = `async-invoker bench${options.quick ? ' (quick)' : ''}: ${m.cores} cores, ${m.memoryGb} GB, ${m.cpuModel}, Node ${process.version}, ${result.date}`;
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
// The same rows as markdown, beside the JSON, for the README.
const targetLines = targets.map((t) => `- **${t.status}** ${t.target}: ${t.measured}`);
writeFileSync(out.replace(/\.json$/, '') + '.md', `${title}\n\n${markdownTable(rows)}\n\n${targetLines.join('\n')}\n`);

console.log(`\n${title}`);
console.log('ratio = ours / best peer at the same concurrency and durability (memory: p-queue; SQLite full and redis-aof: BullMQ on Redis with appendfsync always;');
console.log('        SQLite normal and redis: BullMQ on Redis without persistence; PostgreSQL: best of graphile-worker, pg-boss;');
console.log('        HTTP: async 202 ack / plain sync route; retries: ideal time / actual time). Median of 3 rounds after a warm-up.\n');
console.log(textTable(rows));
console.log('\nTargets (issues 8, 15, 16):');
for (const t of targets) console.log(`  ${t.status.padEnd(6)} ${t.target}: ${t.measured}`);
for (const s of skipped) console.log(`  skipped ${s.system}: ${s.reason}`);
for (const f of failures) console.log(`  FAILED ${f.workload} ${f.system}: ${f.error}`);
console.log(`\nwritten to ${out} in ${result.durationSeconds} s`);
process.exit(failures.length ? 1 : 0);

function runCase(spec) {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./lib/case.js', import.meta.url)), [JSON.stringify(spec)], {
      execArgv: ['--expose-gc', '--max-old-space-size=4096'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let answer;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${caseTimeoutMs / 1000} s`));
    }, caseTimeoutMs);
    child.on('message', (message) => (answer = message));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (answer?.rows) resolve(answer.rows);
      else reject(new Error(answer?.error ?? `case process exited with ${signal ?? code}`));
    });
  });
}
