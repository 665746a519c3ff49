/**
 * Which functions may have due work this worker has not claimed yet, and how many slots each
 * has free. The worker claims again whenever a slot frees for such a function, so a function
 * at its own cap is never mistaken for one without work: its due work runs as soon as one of
 * its slots frees, whatever the other functions are doing.
 */
import type { RegisteredFunction } from '../registry.js';
import type { Claimed, ClaimSlot } from '../stores/contract.js';

/** Attempts and deliveries of one function in flight here. */
export interface InFlight {
  n: number;
  readonly functionName: string;
}

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
  readonly #inFlight = new Map<string, InFlight>();
  #total = 0;
  /** Functions that may have due work not claimed yet. */
  readonly #waiting = new Set<string>();
  /**
   * Functions whose due work a limit held back: not worth claiming for until `until` (a rate
   * window opens, or held-back work would expire) or a wake-up, or (`onSlot`) a slot frees here.
   */
  readonly #held = new Map<string, { until: number; onSlot: boolean }>();
  /** Marks that arrived while a claim was under way: its result must not erase them. */
  #marksDuringClaim: Set<string> | 'all' | undefined;
  /**
   * What the claim that just ended heard about while it was in flight (wake-ups, and slots of
   * limited functions freed here): its answer predates them, so a hold it asks for is not kept.
   */
  #heardDuringLastClaim: Set<string> | 'all' | undefined;
  #claiming = false;
  #rotation = 0;
  /** The slot last made for each function (#slot). */
  readonly #slots = new Map<RegisteredFunction, ClaimSlot>();

  constructor(functions: ReadonlyMap<string, RegisteredFunction>, concurrency: number, batchSize: number) {
    this.#functions = functions;
    this.#concurrency = concurrency;
    this.#batchSize = batchSize;
  }

  /** Attempts and deliveries in flight. */
  get inFlight(): number {
    return this.#total;
  }

  /** True when nothing runs and no function may have due work it could claim now (held-back work cannot). */
  get settled(): boolean {
    if (this.#total !== 0 || this.#claiming) return false;
    for (const name of this.#waiting) if (!this.#held.has(name)) return false;
    return true;
  }

  /** The in-flight counter of `functionName` (kept by the caller for `release`). */
  counter(functionName: string): InFlight {
    let box = this.#inFlight.get(functionName);
    if (!box) this.#inFlight.set(functionName, (box = { n: 0, functionName }));
    return box;
  }

  start(box: InFlight): void {
    box.n++;
    this.#total++;
  }

  /** An attempt or delivery ended: a slot of its function is free here (a held-back function may go now). */
  finish(box: InFlight): void {
    box.n--;
    this.#total--;
    if (this.#held.size && this.#held.get(box.functionName)?.onSlot) this.#held.delete(box.functionName);
    // A claim in flight counted this attempt as running: if it comes back held, it is stale.
    else if (this.#claiming && this.#functions.get(box.functionName)?.limits) this.#markedDuringClaim(box.functionName);
  }

  /**
   * A claim held back `functionName`'s due work for a limit: it keeps waiting, but is not worth a
   * claim until `until`, a wake-up, or (`onSlot`: a running-count limit) a slot freeing here.
   */
  hold(functionName: string, until: number, onSlot: boolean): void {
    this.#waiting.add(functionName);
    const heard = this.#heardDuringLastClaim;
    if (heard === 'all' || heard?.has(functionName)) return;
    this.#held.set(functionName, { until, onSlot });
  }

  /** `functionName` (or, without one, every function) may have due work. */
  mark(functionName?: string): void {
    if (functionName === undefined) {
      for (const name of this.#functions.keys()) this.#waiting.add(name);
      this.#held.clear();
      if (this.#claiming) this.#marksDuringClaim = 'all';
      return;
    }
    this.#held.delete(functionName);
    this.#waiting.add(functionName);
    if (this.#claiming) this.#markedDuringClaim(functionName);
  }

  #markedDuringClaim(functionName: string): void {
    if (this.#marksDuringClaim === undefined) this.#marksDuringClaim = new Set();
    if (this.#marksDuringClaim !== 'all') this.#marksDuringClaim.add(functionName);
  }

  /**
   * The slots of the next claim at `now`: every function with a free slot (rotated, so a partly
   * free worker serves each in turn), or undefined when the worker is full. Functions left out
   * for their cap are marked: whether they have due work is unknown until a slot frees. A
   * function a limit holds back is left out until its hold ends: claiming for it again would
   * only be held back again (a loop, when something else wakes the worker).
   */
  plan(now: number): ClaimPlan | undefined {
    const free = Math.min(this.#concurrency - this.#total, this.#batchSize);
    if (free <= 0) {
      this.mark();
      return undefined;
    }
    const slots: ClaimSlot[] = [];
    for (const fn of this.#functions.values()) {
      if (this.#held.size && this.#stillHeld(fn.name, now)) continue;
      const room = this.#room(fn, free);
      if (room > 0) slots.push(this.#slot(fn, room));
      else this.#waiting.add(fn.name);
    }
    if (slots.length > 1) {
      const k = this.#rotation++ % slots.length;
      slots.push(...slots.splice(0, k));
    }
    if (slots.length === 0) return undefined;
    this.#claiming = true;
    this.#marksDuringClaim = undefined;
    this.#heardDuringLastClaim = undefined;
    return { slots, limit: free };
  }

  /**
   * Records what a claim returned: a function that got all it asked for (or was cut short by
   * the claim's total) may have more; one that got less has none due now.
   */
  claimed(plan: ClaimPlan, items: readonly Claimed[]): void {
    this.#claiming = false;
    const cutShort = items.length >= plan.limit;
    // One slot (the usual claim) took all the items: no count by function to make.
    const taken = plan.slots.length === 1 ? undefined : countByFunction(items);
    for (const slot of plan.slots) {
      if (cutShort || (taken ? (taken.get(slot.functionName) ?? 0) : items.length) >= slot.limit) this.#waiting.add(slot.functionName);
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

  /** True when a claim at `now` could take work that may be waiting. */
  wanted(now: number): boolean {
    const free = Math.min(this.#concurrency - this.#total, this.#batchSize);
    if (free <= 0 || this.#waiting.size === 0) return false;
    for (const name of this.#waiting) {
      if (this.#held.size && this.#stillHeld(name, now)) continue;
      const fn = this.#functions.get(name);
      if (fn && this.#room(fn, free) > 0) return true;
    }
    return false;
  }

  /** When the earliest hold ends (Infinity: none, or only until a slot frees or a wake-up). */
  get holdsEndAt(): number {
    let end = Infinity;
    for (const hold of this.#held.values()) if (hold.until < end) end = hold.until;
    return end;
  }

  /** Whether a limit still holds back `name` at `now` (a hold that has ended is dropped). */
  #stillHeld(name: string, now: number): boolean {
    const hold = this.#held.get(name);
    if (!hold) return false;
    if (hold.until > now) return true;
    this.#held.delete(name);
    return false;
  }

  /** `fn`'s slot with room for `room` (slots are read-only: the last one made is used again while its room is the same). */
  #slot(fn: RegisteredFunction, room: number): ClaimSlot {
    const last = this.#slots.get(fn);
    if (last?.limit === room) return last;
    const slot: ClaimSlot = fn.limits
      ? { functionName: fn.name, limit: room, maxEventAgeMs: fn.maxEventAgeMs, limits: fn.limits }
      : { functionName: fn.name, limit: room, maxEventAgeMs: fn.maxEventAgeMs };
    this.#slots.set(fn, slot);
    return slot;
  }

  #room(fn: RegisteredFunction, free: number): number {
    return fn.concurrency === undefined ? free : Math.min(free, fn.concurrency - (this.#inFlight.get(fn.name)?.n ?? 0));
  }

  #remark(): void {
    const marks = this.#marksDuringClaim;
    this.#marksDuringClaim = undefined;
    this.#heardDuringLastClaim = marks;
    if (marks === 'all') this.mark();
    else if (marks) for (const name of marks) this.#waiting.add(name);
  }
}

function countByFunction(items: readonly Claimed[]): Map<string, number> {
  const taken = new Map<string, number>();
  for (const item of items) {
    const name = item.record.functionName;
    taken.set(name, (taken.get(name) ?? 0) + 1);
  }
  return taken;
}
