/**
 * The overview's figures, from the invoker's API only (so every store serves them): queue depth,
 * running and oldest pending age from `queueMetrics()`, the last hour per minute from
 * `activity()`, live workers from the store's presences.
 */
import type { Invoker } from '../invoker.js';
import type { QueueMetrics } from '../metrics.js';
import type { ActivityEntry, FinishedStatus, WorkerPresence } from '../stores/contract.js';
import { FINISHED_STATUSES, histogramPercentile, HISTOGRAM_SIZE, MINUTE_MS } from '../stores/activity.js';

const HOUR_MINUTES = 60;

/** One function's last hour, one value per minute (oldest first); null where nothing was measured. */
export interface FunctionSeries {
  readonly finished: Record<FinishedStatus, number[]>;
  readonly waitP50: (number | null)[];
  readonly waitP95: (number | null)[];
  readonly runP50: (number | null)[];
  readonly runP95: (number | null)[];
}

export interface FunctionOverview {
  readonly name: string;
  /** Registered in this process (its configuration is known here). */
  readonly registered: boolean;
  readonly queue: QueueMetrics;
  /** Finished in the last hour, by status. */
  readonly lastHour: Record<FinishedStatus, number>;
  readonly waitP95: number | null;
  readonly runP95: number | null;
  readonly series: FunctionSeries;
}

export interface Overview {
  readonly now: number;
  /** Start of each minute of the series, epoch ms, oldest first. */
  readonly minutes: number[];
  readonly total: QueueMetrics & { readonly lastHour: Record<FinishedStatus, number> };
  readonly functions: FunctionOverview[];
  readonly workers: WorkerPresence[];
}

const EMPTY_QUEUE: QueueMetrics = { depth: 0, running: 0, oldestPendingAgeMs: 0, unserved: 0 };

function zeroByStatus(): Record<FinishedStatus, number> {
  return Object.fromEntries(FINISHED_STATUSES.map((s) => [s, 0])) as Record<FinishedStatus, number>;
}

function percentileOrNull(histogram: readonly number[], p: number): number | null {
  return histogramPercentile(histogram, p) ?? null;
}

export async function readOverview(invoker: Invoker): Promise<Overview> {
  const now = invoker.clock.now();
  const lastMinute = now - (now % MINUTE_MS);
  const since = lastMinute - (HOUR_MINUTES - 1) * MINUTE_MS;
  const [queue, activity, workers] = await Promise.all([
    invoker.queueMetrics(),
    invoker.activity({ since, until: lastMinute + MINUTE_MS }),
    invoker.store.workers(now),
  ]);
  const minutes = Array.from({ length: HOUR_MINUTES }, (_, i) => since + i * MINUTE_MS);
  const registered = new Set(invoker.functions().map((f) => f.name));
  const byFunction = new Map<string, ActivityEntry[]>();
  for (const entry of activity) {
    const list = byFunction.get(entry.functionName) ?? [];
    list.push(entry);
    byFunction.set(entry.functionName, list);
  }
  const names = [...new Set([...registered, ...Object.keys(queue.functions), ...byFunction.keys()])].sort();
  const totalHour = zeroByStatus();
  const functions = names.map((name) => {
    const overview = functionOverview(name, registered.has(name), queue.functions[name] ?? EMPTY_QUEUE, byFunction.get(name) ?? [], since);
    for (const s of FINISHED_STATUSES) totalHour[s] += overview.lastHour[s];
    return overview;
  });
  return {
    now,
    minutes,
    total: { ...queue.total, lastHour: totalHour },
    functions,
    workers: [...workers].sort((a, b) => a.startedAt - b.startedAt),
  };
}

function functionOverview(name: string, registered: boolean, queue: QueueMetrics, entries: readonly ActivityEntry[], since: number): FunctionOverview {
  const finished = Object.fromEntries(FINISHED_STATUSES.map((s) => [s, new Array<number>(HOUR_MINUTES).fill(0)])) as Record<FinishedStatus, number[]>;
  const waitP50 = new Array<number | null>(HOUR_MINUTES).fill(null);
  const waitP95 = [...waitP50];
  const runP50 = [...waitP50];
  const runP95 = [...waitP50];
  const lastHour = zeroByStatus();
  const waitAll = new Array<number>(HISTOGRAM_SIZE).fill(0);
  const runAll = new Array<number>(HISTOGRAM_SIZE).fill(0);
  for (const entry of entries) {
    const i = Math.round((entry.minute - since) / MINUTE_MS);
    if (i < 0 || i >= HOUR_MINUTES) continue;
    for (const s of FINISHED_STATUSES) {
      const n = entry.finished[s] ?? 0;
      finished[s][i] += n;
      lastHour[s] += n;
    }
    waitP50[i] = percentileOrNull(entry.wait, 0.5);
    waitP95[i] = percentileOrNull(entry.wait, 0.95);
    runP50[i] = percentileOrNull(entry.run, 0.5);
    runP95[i] = percentileOrNull(entry.run, 0.95);
    entry.wait.forEach((n, b) => (waitAll[b] += n));
    entry.run.forEach((n, b) => (runAll[b] += n));
  }
  return {
    name,
    registered,
    queue,
    lastHour,
    waitP95: percentileOrNull(waitAll, 0.95),
    runP95: percentileOrNull(runAll, 0.95),
    series: { finished, waitP50, waitP95, runP50, runP95 },
  };
}
