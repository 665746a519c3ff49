/**
 * Which functions may have due work this worker has not claimed yet, and how many slots each
 * has free. The worker claims again whenever a slot frees for such a function, so a function
 * at its own cap is never mistaken for one without work: its due work runs as soon as one of
 * its slots frees, whatever the other functions are doing.
 */
import type { RegisteredFunction } from '../registry.js';
import type { Claimed, ClaimSlot } from '../stores/contract.js';

export interface ClaimPlan {
  readonly slots: ClaimSlot[];
  /** Most invocations in this claim, over all slots. */
  readonly limit: number;
}

export class Demand {
  readonly #functions: ReadonlyMap<string, RegisteredFunction>;
  readonly #concurrency: number;
  readonly #batchSize: number;
  /** Attempts and deliveries in flight per function, as mutable boxes the hot path holds on to. */
  readonly #inFlight = new Map<string, { n: number }>();
  #total = 0;
  /** Functions that may have due work not claimed yet. */
  readonly #waiting = new Set<string>();
  /** Marks that arrived while a claim was under way: its result must not erase them. */
  #marksDuringClaim: Set<string> | 'all' | undefined;
  #claiming = false;
  #rotation = 0;

  constructor(functions: ReadonlyMap<string, RegisteredFunction>, concurrency: number, batchSize: number) {
    this.#functions = functions;
    this.#concurrency = concurrency;
    this.#batchSize = batchSize;
  }

  /** Attempts and deliveries in flight. */
  get inFlight(): number {
    return this.#total;
  }

  /** True when nothing runs and no function may have unclaimed due work. */
  get settled(): boolean {
    return this.#total === 0 && this.#waiting.size === 0 && !this.#claiming;
  }

  /** The in-flight counter of `functionName` (kept by the caller for `release`). */
  counter(functionName: string): { n: number } {
    let box = this.#inFlight.get(functionName);
    if (!box) this.#inFlight.set(functionName, (box = { n: 0 }));
    return box;
  }

  start(box: { n: number }): void {
    box.n++;
    this.#total++;
  }

  finish(box: { n: number }): void {
    box.n--;
    this.#total--;
  }

  /** `functionName` (or, without one, every function) may have due work. */
  mark(functionName?: string): void {
    if (functionName === undefined) {
      for (const name of this.#functions.keys()) this.#waiting.add(name);
      if (this.#claiming) this.#marksDuringClaim = 'all';
      return;
    }
    this.#waiting.add(functionName);
    if (!this.#claiming) return;
    if (this.#marksDuringClaim === undefined) this.#marksDuringClaim = new Set();
    if (this.#marksDuringClaim !== 'all') this.#marksDuringClaim.add(functionName);
  }

  /**
   * The slots of the next claim: every function with a free slot (rotated, so a partly free
   * worker serves each in turn), or undefined when the worker is full. Functions left out for
   * their cap are marked: whether they have due work is unknown until a slot frees.
   */
  plan(): ClaimPlan | undefined {
    const free = Math.min(this.#concurrency - this.#total, this.#batchSize);
    if (free <= 0) {
      this.mark();
      return undefined;
    }
    const slots: ClaimSlot[] = [];
    for (const fn of this.#functions.values()) {
      const room = this.#room(fn, free);
      if (room > 0) slots.push({ functionName: fn.name, limit: room, maxEventAgeMs: fn.maxEventAgeMs });
      else this.#waiting.add(fn.name);
    }
    if (slots.length > 1) {
      const k = this.#rotation++ % slots.length;
      slots.push(...slots.splice(0, k));
    }
    if (slots.length === 0) return undefined;
    this.#claiming = true;
    this.#marksDuringClaim = undefined;
    return { slots, limit: free };
  }

  /**
   * Records what a claim returned: a function that got all it asked for (or was cut short by
   * the claim's total) may have more; one that got less has none due now.
   */
  claimed(plan: ClaimPlan, items: readonly Claimed[]): void {
    this.#claiming = false;
    const taken = new Map<string, number>();
    for (const item of items) {
      const name = item.record.functionName;
      taken.set(name, (taken.get(name) ?? 0) + 1);
    }
    const cutShort = items.length >= plan.limit;
    for (const slot of plan.slots) {
      if (cutShort || (taken.get(slot.functionName) ?? 0) >= slot.limit) this.#waiting.add(slot.functionName);
      else this.#waiting.delete(slot.functionName);
    }
    this.#remark();
  }

  /** A claim failed: nothing was learned, every slot's function may still have work. */
  claimFailed(plan: ClaimPlan): void {
    this.#claiming = false;
    for (const slot of plan.slots) this.#waiting.add(slot.functionName);
    this.#remark();
  }

  /** True when a claim now could take work that may be waiting. */
  get wanted(): boolean {
    const free = Math.min(this.#concurrency - this.#total, this.#batchSize);
    if (free <= 0 || this.#waiting.size === 0) return false;
    for (const name of this.#waiting) {
      const fn = this.#functions.get(name);
      if (fn && this.#room(fn, free) > 0) return true;
    }
    return false;
  }

  #room(fn: RegisteredFunction, free: number): number {
    return fn.concurrency === undefined ? free : Math.min(free, fn.concurrency - (this.#inFlight.get(fn.name)?.n ?? 0));
  }

  #remark(): void {
    const marks = this.#marksDuringClaim;
    this.#marksDuringClaim = undefined;
    if (marks === 'all') this.mark();
    else if (marks) for (const name of marks) this.#waiting.add(name);
  }
}
