/**
 * A slot a dead worker held comes back when its lease lapses, and nobody settles it, so no wake-up
 * is published: a worker held back by `concurrency` or `groupConcurrency` would wait until its
 * held-back work is about to expire. So when a claim is held back by running leases, this store
 * signals `due` for the function to its own listeners once the earliest of those leases lapses
 * (the claim script says when); the worker claims again then, and is held back again (with a new
 * time) if the lease was renewed meanwhile. One timer per function, the earliest; unref'd.
 *
 * The delay is the lease expiry minus the claim's `now`, both from the invoker's clock.
 */
import type { StoreSignal } from '../contract.js';

export class LapseWakes {
  readonly #emit: (signal: StoreSignal) => void;
  readonly #armed = new Map<string, { readonly at: number; readonly timer: NodeJS.Timeout }>();

  constructor(emit: (signal: StoreSignal) => void) {
    this.#emit = emit;
  }

  /** A claim at `now` held `functionName` back for running leases, the earliest lapsing at `at`. */
  arm(functionName: string, at: number, now: number): void {
    const armed = this.#armed.get(functionName);
    if (armed && armed.at <= at) return;
    if (armed) clearTimeout(armed.timer);
    // 1 ms past: at `at` itself the lease has lapsed, and a timer may fire a little early.
    const timer = setTimeout(() => {
      this.#armed.delete(functionName);
      this.#emit({ type: 'due', functionName, at });
    }, Math.max(0, at - now) + 1);
    timer.unref();
    this.#armed.set(functionName, { at, timer });
  }

  clear(): void {
    for (const { timer } of this.#armed.values()) clearTimeout(timer);
    this.#armed.clear();
  }
}
