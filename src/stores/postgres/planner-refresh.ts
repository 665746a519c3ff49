/**
 * Keeps the planner's picture of a young invocations table from lagging far behind it. The hot
 * statements are prepared, and a prepared statement keeps the generic plan it made in its first
 * calls: made while the table held a page or two, that plan scans the whole table where the
 * primary key would find the row, and it stays as the table grows, until the table is analyzed
 * (autovacuum's analyze comes a minute or more after the writes: all of a short run or a test).
 * So as this store writes its first rows it asks, a few times, for an analyze when the table
 * outgrew what the planner last saw (refresh-stats.sql); then autovacuum's analyzes suffice.
 */

/** Rows written by this store (inserted, claimed, settled) at which it asks. */
export const REFRESH_AT: readonly number[] = [1_000, 4_000, 16_000, 64_000];

export class PlannerRefresh {
  readonly #refresh: () => Promise<void>;
  readonly #onError: (error: unknown) => void;
  #written = 0;
  /** Index of the next entry of REFRESH_AT to reach. */
  #next = 0;
  #running: Promise<void> | undefined;
  /** A threshold was passed while an ask was under way: ask again after it. */
  #again = false;
  #stopped = false;

  constructor(options: { refresh: () => Promise<void>; onError: (error: unknown) => void }) {
    this.#refresh = options.refresh;
    this.#onError = options.onError;
  }

  /** This store wrote `n` rows. */
  wrote(n: number): void {
    if (this.#next >= REFRESH_AT.length || this.#stopped) return;
    this.#written += n;
    if (this.#written < REFRESH_AT[this.#next]!) return;
    while (this.#next < REFRESH_AT.length && this.#written >= REFRESH_AT[this.#next]!) this.#next++;
    // One ask at a time: thresholds passed during one are asked for once, after it.
    if (this.#running) this.#again = true;
    else this.#ask();
  }

  #ask(): void {
    this.#running = this.#refresh()
      .catch((error: unknown) => this.#onError(error))
      .finally(() => {
        this.#running = undefined;
        if (this.#again && !this.#stopped) {
          this.#again = false;
          this.#ask();
        }
      });
  }

  /** Waits for the ask under way, if any, and makes no more. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }
}
