// Workload 5: 202 acknowledgements per second through the Express trigger on SQLite vs the same
// app's plain synchronous route, autocannon on loopback. Sync and async rounds alternate so
// that background noise on a shared machine hits both alike.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { median } from '../lib/stats.js';

const CONNECTIONS = 32;
const body = JSON.stringify({ n: 1 });

export async function run({ quick, ns }) {
  const seconds = quick ? 2 : 5;
  const dir = mkdtempSync(join(tmpdir(), `${ns}-http-`));
  const server = fork(new URL('./http-server.js', import.meta.url), [], { env: { ...process.env, BENCH_DIR: dir }, stdio: 'inherit' });
  try {
    const { port } = await new Promise((resolve, reject) => {
      server.once('message', resolve);
      server.once('exit', (code) => reject(new Error(`HTTP server exited with ${code}`)));
    });
    const load = (headers, duration) =>
      autocannon({
        url: `http://127.0.0.1:${port}/work`,
        method: 'POST',
        connections: CONNECTIONS,
        duration,
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    const ASYNC = { 'x-fc-invocation-type': 'Async' };
    await load({}, 1);
    await load(ASYNC, 1);
    const sync = [];
    const acks = [];
    for (let i = 0; i < 3; i++) {
      sync.push(await load({}, seconds));
      acks.push(await load(ASYNC, seconds));
    }
    return [summary('express-sync-route', sync, seconds), summary('sqlite-async-ack', acks, seconds)];
  } finally {
    server.send('stop');
    await new Promise((resolve) => server.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

function summary(system, results, seconds) {
  const bad = results.reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0);
  return {
    workload: 'http',
    system,
    concurrency: CONNECTIONS,
    n: Math.round(median(results.map((r) => r.requests.total))),
    opsPerSec: median(results.map((r) => r.requests.average)),
    p50Ms: median(results.map((r) => r.latency.p50)),
    p99Ms: median(results.map((r) => r.latency.p99)),
    note: `${CONNECTIONS} connections, ${seconds} s rounds${bad ? `, ${bad} non-2xx/errors/timeouts` : ''}`,
  };
}
