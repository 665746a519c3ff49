#!/usr/bin/env node
// Where a workload spends its CPU: runs one case under --cpu-prof and prints the functions with
// the most self time (the profile stays in bench/results/, git-ignored, for Chrome DevTools).
//
//   node bench/profile.js [workload=e2e] [system=memory] [concurrency=64] [n]
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [workload = 'e2e', system = 'memory', concurrency = '64', n] = process.argv.slice(2);
const dir = fileURLToPath(new URL('./results/', import.meta.url));
const spec = { workload, system, quick: false, ns: `aibenchprof${process.pid}`, concurrencies: [Number(concurrency)], ...(n ? { n: Number(n) } : {}) };
const started = Date.now();
execFileSync(process.execPath, ['--expose-gc', '--cpu-prof', `--cpu-prof-dir=${dir}`, fileURLToPath(new URL('./lib/case.js', import.meta.url)), JSON.stringify(spec)], {
  stdio: 'inherit',
  timeout: 300_000,
});
const file = readdirSync(dir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .map((f) => dir + f)
  .filter((f) => statSync(f).mtimeMs >= started)
  .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
const profile = JSON.parse(readFileSync(file, 'utf8'));

// Self time per node = its samples x the sampling interval; summed per function and location.
const interval = (profile.endTime - profile.startTime) / profile.samples.length / 1000;
const hits = new Map();
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
const perFunction = new Map();
let total = 0;
for (const node of profile.nodes) {
  const count = hits.get(node.id) ?? 0;
  total += count;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${url.replace(/^file:\/\/.*?\/(node_modules|dist|bench)\//, '$1/')}:${lineNumber + 1}` : '';
  const key = `${functionName || '(anonymous)'} ${where}`.trim();
  perFunction.set(key, (perFunction.get(key) ?? 0) + count);
}
const top = [...perFunction].sort((a, b) => b[1] - a[1]).slice(0, 25);
console.log(`\n${file}\nself time, top 25 of ${total} samples (${(total * interval).toFixed(0)} ms):`);
for (const [key, count] of top) console.log(`${((100 * count) / total).toFixed(1).padStart(5)}%  ${(count * interval).toFixed(0).padStart(6)} ms  ${key}`);
