/**
 * Writes settlements in batches (group commit), and when the store fails, retries each one with
 * backoff for as long as its lease lasts, holding the lease meanwhile. After a short outage the
 * outcome is written by the worker that ran the attempt instead of being run again elsewhere.
 * Past the lease (or at close) it gives up: the lease lapses and another worker recovers the
 * invocation, as after a crash.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { SettleOutcome, Settlement, Store } from '../stores/contract.js';
import { Batcher } from './batcher.js';
import type { Leases } from './leases.js';

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5000;

export class Settler {
  readonly #batcher: Batcher<Settlement, SettleOutcome>;
  readonly #clock: Clock;
  readonly #leaseMs: number;
  readonly #leases: Leases;
  readonly #reportError: (error: unknown, during: string) => void;
  /** Wakes every retry waiting for its next try (close() calls it). */
  readonly #waiting = new Set<() => void>();
  #giveUp = false;

  constructor(store: Store, clock: Clock, leaseMs: number, leases: Leases, reportError: (error: unknown, during: string) => void) {
    this.#batcher = new Batcher((items) => store.settle(items));
    this.#clock = clock;
    this.#leaseMs = leaseMs;
    this.#leases = leases;
    this.#reportError = reportError;
  }

  /** Settlements queued or being written. */
  get pending(): number {
    return this.#batcher.pending;
  }

  settle(s: Settlement): Promise<SettleOutcome> {
    return this.#batcher.add(s).catch((error: unknown) => this.#retry(s, error));
  }

  /** Stops waiting between retries: each makes one last try now (the invoker is closing). */
  giveUp(): void {
    this.#giveUp = true;
    for (const wake of [...this.#waiting]) wake();
  }

  async #retry(s: Settlement, firstError: unknown): Promise<SettleOutcome> {
    this.#reportError(firstError, 'settle');
    const giveUpAt = this.#clock.now() + this.#leaseMs;
    let lost = false;
    const ownLease = this.#leases.get(s.requestId) === undefined;
    if (ownLease) this.#leases.hold(s.requestId, { leaseToken: s.leaseToken, onLost: () => (lost = true) });
    try {
      for (let n = 0; ; n++) {
        if (!this.#giveUp) await this.#sleep(Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** n));
        // Another worker holds it now: our outcome is not to be written.
        if (lost) return 'stale';
        try {
          return await this.#batcher.add(s);
        } catch (error) {
          if (this.#giveUp || this.#clock.now() >= giveUpAt) throw error;
        }
      }
    } finally {
      if (ownLease) this.#leases.release(s.requestId);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: TimerHandle | undefined;
      const wake = () => {
        this.#waiting.delete(wake);
        if (timer !== undefined) this.#clock.clearTimeout(timer);
        resolve();
      };
      this.#waiting.add(wake);
      timer = this.#clock.setTimeout(wake, ms);
    });
  }
}
