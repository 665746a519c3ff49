// Ratio of each of our rows to its yardstick, and the targets judged from the rows.
import { PEERS_OF } from './systems.js';

const HTTP_OURS = 'sqlite-async-ack';
const HTTP_BASE = 'express-sync-route';

/** Sets `ratio` and `vs` on our rows (peer rows are the yardstick and get none). */
export function addRatios(rows) {
  const find = (workload, system, concurrency) =>
    rows.find((r) => r.workload === workload && r.system === system && (workload !== 'e2e' || r.concurrency === concurrency));
  for (const row of rows) {
    if (row.workload === 'http' && row.system === HTTP_OURS) {
      const base = find('http', HTTP_BASE);
      if (base) Object.assign(row, { ratio: row.opsPerSec / base.opsPerSec, vs: HTTP_BASE });
      continue;
    }
    const peers = PEERS_OF[row.system];
    if (!peers || !['e2e', 'enqueue-serial', 'enqueue-bulk'].includes(row.workload)) continue;
    const best = peers.map((p) => find(row.workload, p, row.concurrency)).filter(Boolean).sort((a, b) => b.opsPerSec - a.opsPerSec)[0];
    if (best) Object.assign(row, { ratio: row.opsPerSec / best.opsPerSec, vs: best.system });
  }
  return rows;
}

/** One line per target and concurrency: { target, measured, status: 'MET' | 'MISSED' | 'n/a' }. */
export function judgeTargets(rows) {
  const out = [];
  const vsPeer = (system, peer, min, label) => {
    const ours = rows.filter((r) => r.workload === 'e2e' && r.system === system);
    if (!ours.length) return out.push({ target: `${label} ≥ ${min}× ${peer} end-to-end`, measured: `not run`, status: 'n/a' });
    for (const row of ours) {
      const base = rows.find((r) => r.workload === 'e2e' && r.system === peer && r.concurrency === row.concurrency);
      const target = `${label} ≥ ${min}× ${peer} end-to-end, concurrency ${row.concurrency}`;
      if (!base) out.push({ target, measured: `${peer} not run`, status: 'n/a' });
      else {
        const ratio = row.opsPerSec / base.opsPerSec;
        out.push({ target, measured: `${ratio.toFixed(2)}×`, status: ratio >= min ? 'MET' : 'MISSED' });
      }
    }
  };
  // Issue 15's targets, each at matched durability.
  vsPeer('memory', 'p-queue', 0.5, 'memory');
  vsPeer('sqlite', 'bullmq-aof', 1, 'SQLite full (fsync per commit)');
  vsPeer('sqlite-normal', 'bullmq', 1.5, 'SQLite normal');
  vsPeer('redis', 'bullmq', 1.5, 'Redis');
  vsPeer('redis-aof', 'bullmq-aof', 1.5, 'Redis with appendfsync always');
  vsPeer('postgres', 'graphile-worker', 1.5, 'PostgreSQL');

  const delayed = rows.find((r) => r.workload === 'delayed');
  out.push(
    delayed
      ? {
          target: 'delayed: ≤ 600 bytes per pending invocation',
          measured: `${Math.round(delayed.bytesPerPending)} B (n=${delayed.n})`,
          status: delayed.bytesPerPending <= 600 ? 'MET' : 'MISSED',
        }
      : { target: 'delayed: ≤ 600 bytes per pending invocation', measured: 'not run', status: 'n/a' },
    delayed
      ? { target: 'delayed: p99 lateness ≤ 20 ms', measured: `${delayed.p99Ms} ms`, status: delayed.p99Ms <= 20 ? 'MET' : 'MISSED' }
      : { target: 'delayed: p99 lateness ≤ 20 ms', measured: 'not run', status: 'n/a' },
  );
  for (const system of ['redis', 'postgres']) {
    const limited = rows.filter((r) => r.workload === 'limited' && r.system === system);
    const label = `${system === 'redis' ? 'Redis' : 'PostgreSQL'} with limits.concurrency = worker concurrency ≥ 0.85× no limit`;
    if (!limited.length) out.push({ target: label, measured: 'not run', status: 'n/a' });
    for (const row of limited) {
      out.push({ target: `${label}, concurrency ${row.concurrency}`, measured: `${row.ratio.toFixed(2)}×`, status: row.ratio >= 0.85 ? 'MET' : 'MISSED' });
    }
  }
  // Issue 13: instrumentation with no SDK registered moves the memory end-to-end figure by at most 3 %.
  const traced = rows.filter((r) => r.workload === 'tracing');
  if (!traced.length) out.push({ target: 'tracing on, no SDK: ≥ 0.97× tracing: false (memory end-to-end)', measured: 'not run', status: 'n/a' });
  for (const row of traced) {
    out.push({ target: `tracing on, no SDK: ≥ 0.97× tracing: false (memory end-to-end), concurrency ${row.concurrency}`, measured: `${row.ratio.toFixed(3)}×`, status: row.ratio >= 0.97 ? 'MET' : 'MISSED' });
  }
  const ack = rows.find((r) => r.workload === 'http' && r.system === HTTP_OURS);
  out.push(
    ack?.ratio !== undefined
      ? { target: 'HTTP 202 ack ≥ 0.8× the plain route', measured: `${ack.ratio.toFixed(2)}×`, status: ack.ratio >= 0.8 ? 'MET' : 'MISSED' }
      : { target: 'HTTP 202 ack ≥ 0.8× the plain route', measured: 'not run', status: 'n/a' },
  );
  return out;
}
