import type { FunctionLimits, HeldBack } from './stores/contract.js';

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
  'FunctionInvalidCount',
  'FunctionHeldBackCount',
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
  /**
   * Waiting invocations of a function that no live worker runs (no worker invoker sharing the
   * store registered it): they will not run until one does.
   */
  readonly unserved: number;
  /** The function's limits across processes as registered in this process (running vs `limits.concurrency`). */
  readonly limits?: FunctionLimits;
  /**
   * Which limit held back the function's due work at this process's latest claim for it (its
   * `depth` then waits for a slot or the rate window); absent when it was not held back.
   */
  readonly heldBackBy?: HeldBack['reason'];
}

/** What this process knows of a function beyond the store's counts. */
export interface FunctionStanding {
  /** A live worker runs it (from the store's presences; true while they are not known yet). */
  served(functionName: string): boolean;
  limits(functionName: string): FunctionLimits | undefined;
  heldBackBy(functionName: string): HeldBack['reason'] | undefined;
}

const UNKNOWN: FunctionStanding = { served: () => true, limits: () => undefined, heldBackBy: () => undefined };

export interface MetricsSnapshot {
  readonly total: Counters;
  readonly functions: Record<string, Counters>;
  /** Background failures reported on the `error` event, by what was being done (`claim`, `store:prune`, ...). */
  readonly errors: Readonly<Record<string, number>>;
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
  readonly #errors = new Map<string, number>();

  error(during: string): void {
    this.#errors.set(during, (this.#errors.get(during) ?? 0) + 1);
  }

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
    return { total, functions, errors: Object.fromEntries(this.#errors) };
  }
}

/** Per-function and total queue figures from a store's stats, at `at`, with what `standing` adds. */
export function queueSnapshot(
  stats: { pending: Record<string, number>; running: Record<string, number>; oldestPendingAt: Record<string, number> },
  registered: Iterable<string>,
  at: number,
  standing: FunctionStanding = UNKNOWN,
): QueueMetricsSnapshot {
  const names = new Set([...Object.keys(stats.pending), ...Object.keys(stats.running), ...registered]);
  const functions: Record<string, QueueMetrics> = {};
  let depth = 0;
  let running = 0;
  let unserved = 0;
  let oldest = Infinity;
  for (const name of names) {
    const oldestAt = stats.oldestPendingAt[name];
    const waiting = stats.pending[name] ?? 0;
    const limits = standing.limits(name);
    const heldBackBy = standing.heldBackBy(name);
    const m: QueueMetrics = {
      depth: waiting,
      running: stats.running[name] ?? 0,
      oldestPendingAgeMs: oldestAt === undefined ? 0 : Math.max(0, at - oldestAt),
      unserved: waiting > 0 && !standing.served(name) ? waiting : 0,
      ...(limits ? { limits } : {}),
      ...(heldBackBy ? { heldBackBy } : {}),
    };
    functions[name] = m;
    depth += m.depth;
    running += m.running;
    unserved += m.unserved;
    if (oldestAt !== undefined) oldest = Math.min(oldest, oldestAt);
  }
  return { at, functions, total: { depth, running, unserved, oldestPendingAgeMs: oldest === Infinity ? 0 : Math.max(0, at - oldest) } };
}
