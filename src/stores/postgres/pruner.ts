/**
 * Retention as the store goes, by the rule every store follows (RetentionTrigger): a pass once
 * the invocations this instance finished since the last pass reach one batch, and at least once
 * a minute of store time. A pass is one statement (prune.sql) run in the background, off the
 * write that triggered it; a pass that comes due while one runs follows it, so what finished
 * meanwhile is not left over.
 */
import { isFinalStatus } from '../../types.js';
import type { SettleOutcome, Settlement } from '../contract.js';
import { RetentionTrigger } from '../retention.js';

export class Pruner {
  readonly #trigger: RetentionTrigger;
  /** Runs one pass; `asked` when it is store.prune's, not one of the trigger's. */
  readonly #pass: (now: number, asked: boolean) => Promise<number>;
  readonly #onError: (error: unknown) => void;
  /** The latest store time seen: settles carry none of their own. */
  #now = -Infinity;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(options: { maxCount: number; pass: (now: number, asked: boolean) => Promise<number>; onError: (error: unknown) => void }) {
    this.#trigger = new RetentionTrigger(options.maxCount);
    this.#pass = options.pass;
    this.#onError = options.onError;
  }

  /** Store time moved to `now` (a claim): a pass may be due by time. */
  tick(now: number): void {
    if (now > this.#now) this.#now = now;
    this.#maybeRun();
  }

  /** `n` invocations reached a final status with nothing owed, at store time `now` if known. */
  finished(n: number, now?: number): void {
    if (n === 0) return;
    this.#trigger.finished(n);
    if (now !== undefined && now > this.#now) this.#now = now;
    this.#maybeRun();
  }

  /** Counts the settlements written (`ok`) that left an invocation final with nothing owed. */
  settled(items: readonly Settlement[], outcomes: readonly SettleOutcome[]): void {
    let n = 0;
    let endedAt: number | undefined;
    for (const [i, s] of items.entries()) {
      if (outcomes[i] !== 'ok' || s.dueAt !== null || s.keepLease || !isFinalStatus(s.status)) continue;
      n++;
      if (s.endedAt !== undefined && (endedAt === undefined || s.endedAt > endedAt)) endedAt = s.endedAt;
    }
    this.finished(n, endedAt);
  }

  /**
   * A pass asked for (`store.prune`): after the one under way, if any, so that two passes of
   * this instance never delete the same rows at once. Resolves to how many it removed.
   */
  async force(now: number): Promise<number> {
    while (this.#running) await this.#running;
    if (now > this.#now) this.#now = now;
    this.#trigger.ran(now);
    return this.#pass(now, true);
  }

  /** Waits for the pass under way, if any, and starts no more. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }

  #maybeRun(): void {
    if (this.#stopped || this.#now === -Infinity || !this.#trigger.due(this.#now)) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#loop().finally(() => (this.#running = undefined));
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      const now = this.#now;
      this.#trigger.ran(now);
      try {
        await this.#pass(now, false);
      } catch (error) {
        // Nothing is lost: the rows stay until the next pass, which the next trigger starts.
        this.#onError(error);
      }
    } while (this.#again && !this.#stopped);
  }
}
