/**
 * The leases a worker holds (running attempts, deliveries, settlements being retried), renewed
 * by one heartbeat timer at most every second while anything is held. The heartbeat also
 * learns of stop requests and of leases another worker took over.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Store } from '../stores/contract.js';

export interface Held {
  readonly leaseToken: string;
  /** The lease is gone (another worker has it). */
  onLost(): void;
  /** A stop was requested. */
  onStop?(): void;
}

export class Leases {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #leaseMs: number;
  readonly #reportError: (error: unknown, during: string) => void;
  readonly #held = new Map<string, Held>();
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(store: Store, clock: Clock, leaseMs: number, reportError: (error: unknown, during: string) => void) {
    this.#store = store;
    this.#clock = clock;
    this.#leaseMs = leaseMs;
    this.#reportError = reportError;
  }

  hold(requestId: string, held: Held): void {
    this.#held.set(requestId, held);
    this.#arm();
  }

  /** Stops renewing `requestId`'s lease; with `held`, only while that is what holds it. */
  release(requestId: string, held?: Held): void {
    if (held === undefined || this.#held.get(requestId) === held) this.#held.delete(requestId);
  }

  get(requestId: string): Held | undefined {
    return this.#held.get(requestId);
  }

  /** What is held now (a copy: callbacks may release while the caller iterates). */
  snapshot(): Held[] {
    return [...this.#held.values()];
  }

  /** Stops renewing. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    const interval = Math.min(1000, this.#leaseMs / 3);
    this.#timer = this.#clock.setTimeout(() => void this.#beat(), interval);
  }

  async #beat(): Promise<void> {
    this.#timer = undefined;
    if (this.#held.size === 0) return;
    const leases = [...this.#held].map(([requestId, h]) => ({ requestId, leaseToken: h.leaseToken }));
    try {
      const result = await this.#store.heartbeat({ now: this.#clock.now(), leaseMs: this.#leaseMs, leases });
      for (const id of result.lost) this.#held.get(id)?.onLost();
      for (const id of result.stopping) this.#held.get(id)?.onStop?.();
    } catch (error) {
      this.#reportError(error, 'heartbeat');
    }
    if (this.#held.size > 0) this.#arm();
  }
}
