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

  snapshot(): MetricsSnapshot {
    const total = zeroCounters();
    const functions: Record<string, Counters> = {};
    for (const [name, counters] of this.#byFunction) {
      functions[name] = { ...counters };
      for (const key of COUNTER_NAMES) total[key] += counters[key];
    }
    return { total, functions };
  }
}
