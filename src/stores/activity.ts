/** Activity counters: the histogram bucket of a duration, and adding entries up (memory and SQL stores share it). */
import { DURATION_BUCKETS_MS, type ActivityEntry, type FinishedStatus } from './contract.js';

export const HISTOGRAM_SIZE = DURATION_BUCKETS_MS.length + 1;
export const MINUTE_MS = 60_000;

/** Index of the bucket a duration (ms) falls in: the first whose upper bound is at least it, else the open one. */
export function durationBucket(ms: number): number {
  for (let i = 0; i < DURATION_BUCKETS_MS.length; i++) if (ms <= DURATION_BUCKETS_MS[i]!) return i;
  return DURATION_BUCKETS_MS.length;
}

export function emptyActivity(functionName: string, minute: number): { functionName: string; minute: number; finished: Partial<Record<FinishedStatus, number>>; wait: number[]; run: number[] } {
  return { functionName, minute, finished: {}, wait: new Array<number>(HISTOGRAM_SIZE).fill(0), run: new Array<number>(HISTOGRAM_SIZE).fill(0) };
}

/** Adds `from`'s counters into `into`. */
export function addActivity(into: ReturnType<typeof emptyActivity>, from: ActivityEntry): void {
  for (const [status, n] of Object.entries(from.finished) as [FinishedStatus, number][]) into.finished[status] = (into.finished[status] ?? 0) + n;
  for (let i = 0; i < HISTOGRAM_SIZE; i++) {
    into.wait[i] += from.wait[i] ?? 0;
    into.run[i] += from.run[i] ?? 0;
  }
}

/** The finished statuses in a fixed order: SQL stores keep them as bucket numbers. */
export const FINISHED_STATUSES: readonly FinishedStatus[] = ['Succeeded', 'Failed', 'Expired', 'Stopped', 'Invalid'];

/** An entry as (kind, bucket, count) cells, for stores that keep one row per counter. */
export function activityCells(entry: ActivityEntry): [kind: 'finished' | 'wait' | 'run', bucket: number, count: number][] {
  const cells: ['finished' | 'wait' | 'run', number, number][] = [];
  FINISHED_STATUSES.forEach((status, i) => {
    const n = entry.finished[status];
    if (n) cells.push(['finished', i, n]);
  });
  entry.wait.forEach((n, i) => n && cells.push(['wait', i, n]));
  entry.run.forEach((n, i) => n && cells.push(['run', i, n]));
  return cells;
}

/** Entries from (function, minute, kind, bucket, count) rows, ordered by minute then function. */
export function activityFromCells(rows: readonly { function_name: string; minute: number; kind: string; bucket: number; count: number }[]): ActivityEntry[] {
  const entries = new Map<string, ReturnType<typeof emptyActivity>>();
  for (const row of rows) {
    const key = `${row.minute}\u0000${row.function_name}`;
    let entry = entries.get(key);
    if (!entry) entries.set(key, (entry = emptyActivity(row.function_name, row.minute)));
    if (row.kind === 'finished') {
      const status = FINISHED_STATUSES[row.bucket];
      if (status) entry.finished[status] = (entry.finished[status] ?? 0) + row.count;
    } else if (row.kind === 'wait' || row.kind === 'run') {
      entry[row.kind][row.bucket] = (entry[row.kind][row.bucket] ?? 0) + row.count;
    }
  }
  return [...entries.values()].sort((a, b) => a.minute - b.minute || (a.functionName < b.functionName ? -1 : a.functionName > b.functionName ? 1 : 0));
}

export function isFinishedStatus(status: string): status is FinishedStatus {
  return (FINISHED_STATUSES as readonly string[]).includes(status);
}

/**
 * The duration (ms) below which a fraction `p` (0..1) of a histogram's counts fall, by linear
 * interpolation within the bucket it lands in (the open bucket reports its lower bound); undefined
 * for an empty histogram.
 */
export function histogramPercentile(histogram: readonly number[], p: number): number | undefined {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const target = p * total;
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    const n = histogram[i] ?? 0;
    if (n > 0 && seen + n >= target) {
      const lower = i === 0 ? 0 : DURATION_BUCKETS_MS[i - 1]!;
      const upper = DURATION_BUCKETS_MS[i];
      if (upper === undefined) return lower;
      return Math.round(lower + ((target - seen) / n) * (upper - lower));
    }
    seen += n;
  }
  return DURATION_BUCKETS_MS[DURATION_BUCKETS_MS.length - 1];
}
