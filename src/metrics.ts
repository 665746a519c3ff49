/** Counters with Function Compute's metric names (ours where it has none). */
export const COUNTER_NAMES = [
  'FunctionEnqueueCount',
  'FunctionInvocationCount',
  'FunctionSucceededCount',
  'FunctionFailedCount',
  'FunctionRetryCount',
  'FunctionAsyncEventExpiredDropped',
  'FunctionThrottledCount',
  'FunctionStoppedCount',
  'FunctionDestinationSucceed',
  'FunctionDestinationErrors',
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];
export type Counters = Record<CounterName, number>;

export interface QueueMetrics {
  /** Invocations waiting to run. */
  readonly depth: number;
  readonly running: number;
  /** Age of the oldest waiting invocation, ms (0 when none). */
  readonly oldestPendingAgeMs: number;
}

export interface MetricsSnapshot {
  readonly total: Counters;
  readonly functions: Record<string, Counters>;
  /**
   * Queue depth, running count and age of the oldest pending invocation, from the store: exact
   * for the memory store; for the others the latest reading, refreshed in the background when
   * older than a second (undefined before the first one). `await queueMetrics()` reads it now.
   */
  readonly queue: QueueMetricsSnapshot | undefined;
}

export interface QueueMetricsSnapshot {
  readonly total: QueueMetrics;
  readonly functions: Record<string, QueueMetrics>;
  /** Epoch ms of the reading. */
  readonly at: number;
}

export function zeroCounters(): Counters {
  const counters = {} as Counters;
  for (const name of COUNTER_NAMES) counters[name] = 0;
  return counters;
}

/** Per-function counters, created when a function is first counted. */
export class MetricsRegistry {
  readonly #byFunction = new Map<string, Counters>();

  for(functionName: string): Counters {
    let counters = this.#byFunction.get(functionName);
    if (!counters) {
      counters = zeroCounters();
      this.#byFunction.set(functionName, counters);
    }
    return counters;
  }

  snapshot(): Omit<MetricsSnapshot, 'queue'> {
    const total = zeroCounters();
    const functions: Record<string, Counters> = {};
    for (const [name, counters] of this.#byFunction) {
      functions[name] = { ...counters };
      for (const key of COUNTER_NAMES) total[key] += counters[key];
    }
    return { total, functions };
  }
}

/** Per-function and total queue figures from a store's stats, at `at`. */
export function queueSnapshot(
  stats: { pending: Record<string, number>; running: Record<string, number>; oldestPendingAt: Record<string, number> },
  registered: Iterable<string>,
  at: number,
): QueueMetricsSnapshot {
  const names = new Set([...Object.keys(stats.pending), ...Object.keys(stats.running), ...registered]);
  const functions: Record<string, QueueMetrics> = {};
  let depth = 0;
  let running = 0;
  let oldest = Infinity;
  for (const name of names) {
    const oldestAt = stats.oldestPendingAt[name];
    const m: QueueMetrics = {
      depth: stats.pending[name] ?? 0,
      running: stats.running[name] ?? 0,
      oldestPendingAgeMs: oldestAt === undefined ? 0 : Math.max(0, at - oldestAt),
    };
    functions[name] = m;
    depth += m.depth;
    running += m.running;
    if (oldestAt !== undefined) oldest = Math.min(oldest, oldestAt);
  }
  return { at, functions, total: { depth, running, oldestPendingAgeMs: oldest === Infinity ? 0 : Math.max(0, at - oldest) } };
}
