/**
 * What `stats` reports, per function and in total: the queue now (`queueMetrics()`), the last
 * hour's outcomes and p50/p95 queue wait and run time (`activity()`), and the live workers
 * (`store.workers(now)`). Printed as is by `stats --json`; documented in the README.
 */
import type { Invoker } from '../invoker.js';
import type { QueueMetrics } from '../metrics.js';
import { addActivity, emptyActivity, histogramPercentile, MINUTE_MS } from '../stores/activity.js';
import type { ActivityEntry, FinishedStatus, WorkerPresence } from '../stores/contract.js';

export interface Percentiles {
  /** ms; null when nothing was measured in the window. */
  readonly p50: number | null;
  readonly p95: number | null;
}

export interface FunctionStats {
  /** Waiting to run (`Enqueued`, `Retrying`). */
  readonly waiting: number;
  /** Running (`Running`, `Stopping`). */
  readonly running: number;
  /** Age of the oldest waiting invocation, ms (0 when none wait). */
  readonly oldestPendingAgeMs: number;
  /** Waiting invocations of a function no live worker runs. */
  readonly unserved: number;
  /** Invocations finished in the window, by final status. */
  readonly finished: Readonly<Partial<Record<FinishedStatus, number>>>;
  /** Wait from due to start, of the attempts started in the window. */
  readonly queueWaitMs: Percentiles;
  /** Run time of the attempts that ended in the window. */
  readonly runTimeMs: Percentiles;
}

export interface StatsReport {
  /** When the figures were read, epoch ms. */
  readonly at: number;
  /** The window of `finished`, `queueWaitMs` and `runTimeMs`: whole minutes, the current one included (the last hour). */
  readonly window: { readonly since: number; readonly until: number };
  /** By function name, sorted by name. */
  readonly functions: Readonly<Record<string, FunctionStats>>;
  readonly total: FunctionStats;
  /** Worker invokers announced in the store and not lapsed, with the functions each runs. */
  readonly workers: readonly WorkerPresence[];
}

const WINDOW_MINUTES = 60;

export async function statsReport(invoker: Invoker, functionName?: string): Promise<StatsReport> {
  const at = invoker.clock.now();
  const until = at - (at % MINUTE_MS) + MINUTE_MS;
  const since = until - WINDOW_MINUTES * MINUTE_MS;
  const [queue, activity, workers] = await Promise.all([
    invoker.queueMetrics(),
    invoker.activity({ since, until, ...(functionName !== undefined ? { functionName } : {}) }),
    invoker.store.workers(at),
  ]);
  const byFunction = new Map<string, ReturnType<typeof emptyActivity>>();
  for (const entry of activity) {
    let sum = byFunction.get(entry.functionName);
    if (!sum) byFunction.set(entry.functionName, (sum = emptyActivity(entry.functionName, since)));
    addActivity(sum, entry);
  }
  const names = new Set([...Object.keys(queue.functions), ...byFunction.keys(), ...workers.flatMap((w) => w.functions)]);
  const selected = [...names].filter((n) => functionName === undefined || n === functionName).sort();
  const functions: Record<string, FunctionStats> = {};
  const all = emptyActivity('', since);
  for (const name of selected) {
    const activityOf = byFunction.get(name) ?? emptyActivity(name, since);
    addActivity(all, activityOf);
    functions[name] = figures(queue.functions[name], activityOf);
  }
  const totalQueue = functionName === undefined ? queue.total : queue.functions[functionName];
  const live = functionName === undefined ? workers : workers.filter((w) => w.functions.includes(functionName));
  return { at, window: { since, until }, functions, total: figures(totalQueue, all), workers: sortWorkers(live) };
}

function figures(queue: QueueMetrics | undefined, activity: ActivityEntry): FunctionStats {
  return {
    waiting: queue?.depth ?? 0,
    running: queue?.running ?? 0,
    oldestPendingAgeMs: queue?.oldestPendingAgeMs ?? 0,
    unserved: queue?.unserved ?? 0,
    finished: { ...activity.finished },
    queueWaitMs: percentiles(activity.wait),
    runTimeMs: percentiles(activity.run),
  };
}

function percentiles(histogram: readonly number[]): Percentiles {
  return { p50: histogramPercentile(histogram, 0.5) ?? null, p95: histogramPercentile(histogram, 0.95) ?? null };
}

function sortWorkers(workers: readonly WorkerPresence[]): WorkerPresence[] {
  return [...workers].sort((a, b) => a.host.localeCompare(b.host) || a.pid - b.pid || a.workerId.localeCompare(b.workerId));
}
