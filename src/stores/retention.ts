/**
 * When a store runs a retention pass, the same rule in every store: once the invocations this
 * store instance finished since its last pass reach one batch (a tenth of `maxCount`, between 1
 * and 1,000), and at least once a minute of store time. So with one process, at most
 * `maxCount` + one batch finished records are ever kept; with P processes, `maxCount` + P batches.
 */
export const PRUNE_INTERVAL_MS = 60_000;
const MAX_BATCH = 1000;

export function retentionBatch(maxCount: number): number {
  return Math.min(MAX_BATCH, Math.max(1, Math.ceil(maxCount / 10)));
}

export class RetentionTrigger {
  readonly batch: number;
  #finished = 0;
  #lastPassAt = -Infinity;

  constructor(maxCount: number) {
    this.batch = retentionBatch(maxCount);
  }

  /** Counts invocations that reached a final status (with nothing owed) in this store. */
  finished(n: number): void {
    this.#finished += n;
  }

  /** True when a pass is due at `now` (store time); the caller then runs one and calls `ran`. */
  due(now: number): boolean {
    return this.#finished >= this.batch || now - this.#lastPassAt >= PRUNE_INTERVAL_MS;
  }

  ran(now: number): void {
    this.#finished = 0;
    this.#lastPassAt = now;
  }
}
