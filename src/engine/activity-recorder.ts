/**
 * Activity counters of the attempts this worker runs (the dashboard's charts): per function and
 * minute, outcomes and histograms of queue wait and run time, added up in memory and written to
 * the store every 10 seconds (and at close), so charts cost one small write per 10 s per worker,
 * whatever the throughput.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { FinishedStatus, Store } from '../stores/contract.js';
import { durationBucket, emptyActivity, MINUTE_MS } from '../stores/activity.js';

const FLUSH_EVERY_MS = 10_000;

export class ActivityRecorder {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #reportError: (error: unknown, during: string) => void;
  #pending = new Map<string, ReturnType<typeof emptyActivity>>();
  /** Each function's entry for its latest minute: the hot path's lookup, without building a key. */
  #latest = new Map<string, ReturnType<typeof emptyActivity>>();
  #timer: TimerHandle | undefined;
  #writing: Promise<void> | undefined;

  constructor(store: Store, clock: Clock, reportError: (error: unknown, during: string) => void) {
    this.#store = store;
    this.#clock = clock;
    this.#reportError = reportError;
  }

  /** An attempt started at `at`, due since `dueAt`. */
  started(functionName: string, at: number, dueAt: number): void {
    this.#entry(functionName, at).wait[durationBucket(Math.max(0, at - dueAt))]++;
  }

  /** An attempt that started at `startedAt` has its outcome at `at`. */
  ran(functionName: string, at: number, startedAt: number): void {
    this.#entry(functionName, at).run[durationBucket(Math.max(0, at - startedAt))]++;
  }

  finished(functionName: string, at: number, status: FinishedStatus): void {
    const { finished } = this.#entry(functionName, at);
    finished[status] = (finished[status] ?? 0) + 1;
  }

  /** Writes what is pending and waits for it. */
  async close(): Promise<void> {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#writing;
    this.#flush();
    await this.#writing;
  }

  #entry(functionName: string, at: number): ReturnType<typeof emptyActivity> {
    const latest = this.#latest.get(functionName);
    if (latest !== undefined && at >= latest.minute && at - latest.minute < MINUTE_MS) return latest;
    const minute = at - (at % MINUTE_MS);
    const key = `${functionName}\u0000${minute}`;
    let entry = this.#pending.get(key);
    if (!entry) this.#pending.set(key, (entry = emptyActivity(functionName, minute)));
    if (latest === undefined || minute > latest.minute) this.#latest.set(functionName, entry);
    if (this.#timer === undefined) this.#timer = this.#clock.setTimeout(() => this.#flush(), FLUSH_EVERY_MS);
    return entry;
  }

  #flush(): void {
    this.#timer = undefined;
    if (this.#pending.size === 0 || this.#writing) return;
    const entries = [...this.#pending.values()];
    this.#pending = new Map();
    this.#latest = new Map();
    this.#writing = this.#store
      .recordActivity(entries)
      .catch((error: unknown) => this.#reportError(error, 'activity'))
      .finally(() => (this.#writing = undefined));
  }
}
