/**
 * One claim's view of a function's limits, for the stores that decide them in process inside
 * the claim (memory, and SQLite under its write lock): running attempts (live leases) per group,
 * and the one-second start window. Counted once when the claim begins, then kept up to date as
 * the claim takes work, so the limits hold within the claim too.
 */
import type { ClaimRequest, ClaimSlot, FunctionLimits, HeldBack, StoredInvocation } from './contract.js';
import type { StartWindow } from './limits.js';

/** The group key of ungrouped work, when a grouped function has some. */
export const NO_GROUP = '';

/** Whether a slot's limits limit anything (an empty object does not). */
export function limitsAnything(limits: FunctionLimits | undefined): limits is FunctionLimits {
  return limits !== undefined && (limits.concurrency !== undefined || limits.perSecond !== undefined || limits.groupConcurrency !== undefined || limits.grouped === true);
}

export class ClaimGate {
  readonly limits: FunctionLimits;
  readonly #maxEventAgeMs: number;
  readonly #starts: StartWindow;
  /** The earliest expiry among the work passed over (HeldBack.expiresAt). */
  #expiresAt = Infinity;
  #running = 0;
  /** The earliest lease end among the attempts running when the claim began (HeldBack.freesAt). */
  #freesAt = Infinity;
  readonly #byGroup = new Map<string, number>();
  /** A group was passed over for its cap while it had due work. */
  groupHeld = false;

  /** `running`: each running attempt's group key (NO_GROUP for none) and lease end, read only if a limit counts them. */
  constructor(slot: ClaimSlot & { limits: FunctionLimits }, running: () => Iterable<RunningAttempt>, starts: StartWindow, now: number) {
    this.limits = slot.limits;
    this.#maxEventAgeMs = slot.maxEventAgeMs;
    this.#starts = starts;
    starts.slide(now);
    if (!this.countsRunning) return;
    for (const [group, leaseEndsAt] of running()) {
      this.#count(group);
      if (leaseEndsAt < this.#freesAt) this.#freesAt = leaseEndsAt;
    }
  }

  get countsRunning(): boolean {
    return this.limits.concurrency !== undefined || this.limits.groupConcurrency !== undefined;
  }

  get grouped(): boolean {
    return this.limits.grouped === true;
  }

  /** Why a run of `record` may not start now, if it may not (then it counts as passed over). */
  refusal(record: StoredInvocation): HeldBack['reason'] | undefined {
    const reason = this.#refusal(record);
    if (reason) this.passedOver(record);
    return reason;
  }

  #refusal(record: StoredInvocation): HeldBack['reason'] | undefined {
    const { concurrency, perSecond, groupConcurrency } = this.limits;
    if (concurrency !== undefined && this.#running >= concurrency) return 'concurrency';
    if (groupConcurrency !== undefined && this.groupFull(record.groupKey ?? NO_GROUP)) return 'group';
    if (perSecond !== undefined && !this.#starts.allows(perSecond)) return 'rate';
    return undefined;
  }

  /** A run of `record` was left waiting for a limit (a group at its cap, or a refusal). */
  passedOver(record: StoredInvocation): void {
    const at = record.createdAt + this.#maxEventAgeMs + 1;
    if (at < this.#expiresAt) this.#expiresAt = at;
  }

  groupFull(group: string): boolean {
    const cap = this.limits.groupConcurrency;
    return cap !== undefined && (this.#byGroup.get(group) ?? 0) >= cap;
  }

  heldBack(functionName: string, reason: HeldBack['reason']): HeldBack {
    const expiresAt = this.#expiresAt;
    if (reason === 'rate') return { functionName, reason, retryAt: this.#starts.retryAt(this.limits.perSecond!), expiresAt };
    // Attempts taken in this claim hold fresh leases: the ones counted at the start lapse first.
    return this.#freesAt === Infinity ? { functionName, reason, expiresAt } : { functionName, reason, expiresAt, freesAt: this.#freesAt };
  }

  /** A run started at `now`. */
  started(record: StoredInvocation, now: number): void {
    this.#count(record.groupKey ?? NO_GROUP);
    if (this.limits.perSecond !== undefined) this.#starts.add(now);
  }

  /** An expired lease was taken over: its attempt is running again (its recoverer holds the slot). */
  recovered(record: StoredInvocation): void {
    if (record.status === 'Running' || record.status === 'Stopping') this.#count(record.groupKey ?? NO_GROUP);
  }

  #count(group: string): void {
    this.#running++;
    this.#byGroup.set(group, (this.#byGroup.get(group) ?? 0) + 1);
  }
}

const NONE_ENDED: ReadonlySet<string> = new Set();

/** The lease tokens of ClaimRequest.ended: attempts that ended, not counted as running. */
export function endedTokens(request: ClaimRequest): ReadonlySet<string> {
  return request.ended?.length ? new Set(request.ended.map((e) => e.leaseToken)) : NONE_ENDED;
}

/** A running attempt as a limit counts it: its group key and when its lease lapses. */
export type RunningAttempt = readonly [group: string, leaseEndsAt: number];

/** Leased for a run with the lease not yet lapsed. */
export function isRunning(record: StoredInvocation, now: number): boolean {
  return (record.status === 'Running' || record.status === 'Stopping') && record.dueAt !== undefined && record.dueAt > now;
}
