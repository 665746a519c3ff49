/** The `stats` tables: the queue and the last hour per function, then the live workers. */
import type { FunctionStats, Percentiles, StatsReport } from '../stats-report.js';
import { table } from '../table.js';
import { duration, relative } from '../time.js';

export function statsView(report: StatsReport): string {
  const names = Object.keys(report.functions);
  const sections: string[] = [];
  if (names.length === 0) sections.push('No functions: nothing waits, runs or ran in the last hour, and no worker is live.');
  else {
    const rows = names.map((name) => row(name, report.functions[name]!));
    if (names.length > 1) rows.push(row('(total)', report.total));
    sections.push(
      table(
        [
          { header: 'FUNCTION' },
          { header: 'WAITING', right: true },
          { header: 'RUNNING', right: true },
          { header: 'OLDEST WAITING', right: true },
          { header: 'UNSERVED', right: true },
          { header: 'SUCCEEDED', right: true },
          { header: 'FAILED', right: true },
          { header: 'OTHER', right: true },
          { header: 'WAIT p50/p95', right: true },
          { header: 'RUN p50/p95', right: true },
        ],
        rows,
      ),
      'SUCCEEDED, FAILED, OTHER (expired, stopped, invalid) and the times cover the last hour.',
    );
  }
  if (report.total.unserved > 0) {
    sections.push(`${report.total.unserved} waiting invocation(s) belong to functions no live worker runs: start a worker that registers them.`);
  }
  sections.push(workers(report));
  return sections.join('\n\n');
}

function row(name: string, f: FunctionStats): string[] {
  const other = (f.finished.Expired ?? 0) + (f.finished.Stopped ?? 0) + (f.finished.Invalid ?? 0);
  return [
    name,
    String(f.waiting),
    String(f.running),
    f.waiting > 0 ? duration(f.oldestPendingAgeMs) : '-',
    String(f.unserved),
    String(f.finished.Succeeded ?? 0),
    String(f.finished.Failed ?? 0),
    String(other),
    pair(f.queueWaitMs),
    pair(f.runTimeMs),
  ];
}

function pair(p: Percentiles): string {
  return p.p50 === null || p.p95 === null ? '-' : `${duration(p.p50)} / ${duration(p.p95)}`;
}

function workers(report: StatsReport): string {
  if (report.workers.length === 0) return 'No live workers.';
  const rows = report.workers.map((w) => [w.host, String(w.pid), String(w.concurrency), relative(w.startedAt, report.at).replace(/ ago$/, ''), w.functions.join(', ') || '-']);
  return `Live workers: ${report.workers.length}\n${table(
    [{ header: 'HOST' }, { header: 'PID', right: true }, { header: 'CONCURRENCY', right: true }, { header: 'UP' }, { header: 'FUNCTIONS' }],
    rows,
  )}`;
}
