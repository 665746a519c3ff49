/**
 * Claims, as the store makes them: slots without limits in one statement (claim.sql); a slot with
 * limits holding its function's lock, in one statement when it has no groups (limit-fast.sql),
 * else (or when that one's snapshot was stale) in a transaction (limited-slot.ts).
 */
import { limitsAnything } from '../claim-gate.js';
import type { Claimed, ClaimKind, ClaimRequest, ClaimResult, ClaimSlot, FunctionLimits, HeldBack, Settlement } from '../contract.js';
import { claimLimitedSlot, type LimitedSlotResult } from './limited-slot.js';
import type { Pruner } from './pruner.js';
import { toRecord, type RecordRow } from './rows.js';
import type { Signals } from './signals.js';
import type { StatementName } from './statements.js';
import type { Tx } from './transaction.js';

/** What claims need of the store. Failures of both are StoreErrors already. */
export interface ClaimerDeps {
  readonly query: <R extends object>(name: StatementName, values: unknown[]) => Promise<R[]>;
  /** Runs claim.sql with its $1-$4 (the store may carry settlements in it: settle-claim). */
  readonly claimStatement: (values: readonly unknown[]) => Promise<ClaimRow[]>;
  /** Runs `work` in a transaction on one client. */
  readonly transaction: <T>(work: (tx: Tx) => Promise<T>) => Promise<T>;
  readonly signals: Signals;
  readonly pruner: Pruner;
}

const ignore = (): void => {};

/** Claim statements one claim may run when final records owing nothing stand in the way. */
const MAX_CLAIM_ROUNDS = 8;

/**
 * How often a grouped claim adopts the function's groupless work (enqueued by a process that
 * had no groupBy for it) into a group of its own: a scan of the function's work, so spaced out.
 */
const ADOPTION_INTERVAL_MS = 30_000;

export class Claimer {
  readonly #d: ClaimerDeps;
  /** When each grouped function's groupless work was last adopted (see #adoptionDue). */
  readonly #adoptedAt = new Map<string, number>();
  /** Settlements under way that free a limited function's running slot (Settlement.wake). */
  readonly #freeing = new Set<Promise<void>>();

  constructor(deps: ClaimerDeps) {
    this.#d = deps;
  }

  /**
   * The store is writing `items` (`written` is that write). A claim held back meanwhile claims
   * again once those that free a limited slot are written. (Until then its worker names them in
   * ClaimRequest.ended, so they do not count as running for it.)
   */
  settling(items: readonly Settlement[], written: Promise<unknown>): void {
    if (!items.some((s) => s.wake)) return;
    const done = written.then(ignore, ignore);
    this.#freeing.add(done);
    void done.then(() => this.#freeing.delete(done));
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    this.#d.pruner.tick(request.now);
    if (request.limit <= 0 || request.slots.every((s) => s.limit <= 0)) return { items: [], nextDueAt: undefined };
    this.#d.signals.claiming(request.slots.map((s) => s.functionName));
    if (!request.slots.some((s) => limitsAnything(s.limits))) return this.#claimUnlimited(request, request.slots, request.limit, true);
    // A running slot of a function this claim holds back may free while the claim runs (here or
    // elsewhere): its snapshot may predate that, and the worker told its work waits would not
    // claim for it on that wake-up. Claim again for what is left, until no wake-up came meanwhile.
    const items: Claimed[] = [];
    for (let round = 1, rest = request; ; round++) {
      const mark = this.#d.signals.wakeMark();
      const once = await this.#claimSlots(rest);
      items.push(...once.items);
      // Slots this instance freed while the claim ran: once written, they count as freed since the mark.
      if (once.heldBack && this.#freeing.size) await Promise.all(this.#freeing);
      const freed = once.heldBack?.some((h) => this.#d.signals.wokeSince(mark, h.functionName)) === true;
      if (!freed || round === MAX_CLAIM_ROUNDS || items.length >= request.limit) return { ...once, items };
      rest = remainderOf(request, items);
    }
  }

  /**
   * Slot by slot, each getting what the slots before it left: a run of slots without limits in
   * one statement, a slot with limits on its own.
   */
  async #claimSlots(request: ClaimRequest): Promise<ClaimResult> {
    const items: Claimed[] = [];
    const heldBack: HeldBack[] = [];
    let nextDueAt = Infinity;
    for (let i = 0; i < request.slots.length; ) {
      const slot = request.slots[i]!;
      const left = request.limit - items.length;
      if (limitsAnything(slot.limits)) {
        const claimed = await this.#claimLimited(request, slot, slot.limits, Math.min(slot.limit, left));
        items.push(...claimed.items);
        if (claimed.heldBack) heldBack.push(claimed.heldBack);
        nextDueAt = Math.min(nextDueAt, claimed.nextDueAt ?? Infinity);
        i++;
        continue;
      }
      let end = i + 1;
      while (end < request.slots.length && !limitsAnything(request.slots[end]!.limits)) end++;
      const claimed = await this.#claimUnlimited(request, request.slots.slice(i, end), left, false);
      items.push(...claimed.items);
      nextDueAt = Math.min(nextDueAt, claimed.nextDueAt ?? Infinity);
      i = end;
    }
    const next = nextDueAt === Infinity ? undefined : nextDueAt;
    return heldBack.length ? { items, nextDueAt: next, heldBack } : { items, nextDueAt: next };
  }

  /**
   * Slots without limits: one claim statement, again past final records owing nothing. With
   * `exact`, a claim that was not full reads the next due time again (see below). Slots left no
   * room stay in (taking nothing), so the earliest due time covers their functions too.
   */
  async #claimUnlimited(request: ClaimRequest, requested: readonly ClaimSlot[], limit: number, exact: boolean): Promise<ClaimResult> {
    let slots = requested.map((s) => ({ ...s, limit: Math.max(0, s.limit) }));
    const capacity = Math.max(0, Math.min(limit, slots.reduce((n, s) => n + s.limit, 0)));
    const items: Claimed[] = [];
    let nextDueAt: number | undefined;
    // Final records owing nothing take a candidate's place and leave the work index: when some
    // did and the claim is not full, claim again past them (a run of them never hides work).
    for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
      const once = await this.#claimOnce(request.now, request.leaseMs, Math.max(0, limit - items.length), slots);
      items.push(...once.items);
      nextDueAt = once.nextDueAt;
      if (once.cleared === 0 || items.length >= capacity) break;
      const taken = new Map<string, number>();
      for (const c of once.items) taken.set(c.record.functionName, (taken.get(c.record.functionName) ?? 0) + 1);
      slots = slots.map((s) => ({ ...s, limit: Math.max(0, s.limit - (taken.get(s.functionName) ?? 0)) }));
    }
    // What was just leased is due again when its lease runs out.
    if (items.length) nextDueAt = Math.min(nextDueAt ?? Infinity, request.now + request.leaseMs);
    // A claim that was not full leaves the worker waiting for nextDueAt. The claim's snapshot
    // predates work settled while it ran (whose wake-up may have fired meanwhile), so look again.
    if (exact && items.length < capacity) nextDueAt = await this.#nextDue(requested);
    return { items, nextDueAt };
  }

  async #nextDue(slots: readonly ClaimSlot[]): Promise<number | undefined> {
    const [row] = await this.#d.query<{ at: string | null }>('next-due', [slots.map((s) => s.functionName)]);
    return row?.at == null ? undefined : Number(row.at);
  }

  /**
   * A slot with limits, holding the function's lock: in one statement when its limits cannot bind
   * (limit-fast.sql), else in a transaction (limited-claim.ts).
   */
  async #claimLimited(request: ClaimRequest, slot: ClaimSlot, limits: FunctionLimits, limit: number): Promise<Omit<LimitedSlotResult, 'cleared'>> {
    const grouped = limits.grouped === true;
    // A slot left no room takes nothing; a grouped one still forgets the places of groups left
    // without work, as the other stores do at every claim.
    if (limit <= 0 && !grouped) return { items: [], heldBack: undefined, nextDueAt: await this.#nextDue([slot]) };
    if (limit > 0 && !grouped && limits.groupConcurrency === undefined) {
      const fast = await this.#claimFast(request, slot, limits, limit);
      if (fast) return fast;
    }
    const claim = {
      slot,
      limits,
      limit,
      now: request.now,
      adoptGroupless: grouped && this.#adoptionDue(slot.functionName, request.now),
      ended: this.#endedTokens(request),
    };
    const claimed = await this.#d.transaction((tx) => claimLimitedSlot(tx, claim, request.leaseMs));
    // Final records that left the work index are finished now, as far as retention goes.
    this.#d.pruner.finished(claimed.cleared, request.now);
    return claimed;
  }

  /** limit-fast.sql: the claim in one statement, or undefined when it must go the general way (it wrote nothing). */
  async #claimFast(request: ClaimRequest, slot: ClaimSlot, limits: FunctionLimits, limit: number): Promise<Omit<LimitedSlotResult, 'cleared'> | undefined> {
    const rows = await this.#d.query<FastClaimRow>('limit-fast', [
      slot.functionName,
      limit,
      slot.maxEventAgeMs,
      request.now,
      request.leaseMs,
      limits.concurrency ?? null,
      limits.perSecond ?? null,
      this.#endedTokens(request),
    ]);
    const [first] = rows;
    if (first?.fits !== true) return undefined;
    const items: Claimed[] = [];
    for (const row of rows) if (row.kind !== null) items.push({ kind: row.kind, leaseToken: row.lease_token!, record: toRecord(row) });
    return { items, heldBack: fastHeldBack(slot.functionName, first), nextDueAt: first.next_due === null ? undefined : Number(first.next_due) };
  }

  /** Lease tokens of the attempts the claim says ended (ClaimRequest.ended). */
  #endedTokens(request: ClaimRequest): string[] {
    return request.ended?.map((e) => e.leaseToken) ?? [];
  }

  /** Groupless work of a grouped function is adopted at its first grouped claim, then every 30 s of store time. */
  #adoptionDue(functionName: string, now: number): boolean {
    const last = this.#adoptedAt.get(functionName);
    if (last !== undefined && now - last < ADOPTION_INTERVAL_MS) return false;
    this.#adoptedAt.set(functionName, now);
    return true;
  }

  /** One claim statement: what it leased, the earliest due time it left, how many rows it cleared. */
  async #claimOnce(
    now: number,
    leaseMs: number,
    limit: number,
    slots: readonly { functionName: string; limit: number; maxEventAgeMs: number }[],
  ): Promise<{ items: Claimed[]; nextDueAt: number | undefined; cleared: number }> {
    const param = JSON.stringify(slots.map((s, o) => ({ f: s.functionName, n: Math.min(s.limit, limit), age: s.maxEventAgeMs, o })));
    const rows = await this.#d.claimStatement([param, now, leaseMs, limit]);
    const cleared = rows[0]?.cleared ?? 0;
    // Final records that left the work index are finished now, as far as retention goes.
    this.#d.pruner.finished(cleared, now);
    const items: Claimed[] = [];
    for (const row of rows) {
      if (row.kind === null) continue;
      const record = toRecord(row);
      items.push({ kind: row.kind, leaseToken: record.leaseToken!, record });
    }
    return { items, nextDueAt: rows[0]?.next_due == null ? undefined : Number(rows[0].next_due), cleared };
  }
}

/** The claim `request` less what `taken` took: the total and each function's slot. */
function remainderOf(request: ClaimRequest, taken: readonly Claimed[]): ClaimRequest {
  const byFunction = new Map<string, number>();
  for (const c of taken) byFunction.set(c.record.functionName, (byFunction.get(c.record.functionName) ?? 0) + 1);
  const slots = request.slots.map((s) => ({ ...s, limit: Math.max(0, s.limit - (byFunction.get(s.functionName) ?? 0)) }));
  return { ...request, limit: request.limit - taken.length, slots };
}

/** A row of claim.sql. */
export type ClaimRow = RecordRow & { kind: ClaimKind | null; next_due: string | null; cleared: number };

/** A row of limit-fast.sql. */
type FastClaimRow = RecordRow & {
  fits: boolean;
  kind: ClaimKind | null;
  next_due: string | null;
  held_reason: HeldBack['reason'] | null;
  held_expires_at: string | null;
  held_retry_at: string | null;
  held_frees_at: string | null;
};

function fastHeldBack(functionName: string, row: FastClaimRow): HeldBack | undefined {
  if (row.held_reason === null || row.held_expires_at === null) return undefined;
  const held: HeldBack = { functionName, reason: row.held_reason, expiresAt: Number(row.held_expires_at) };
  if (row.held_retry_at !== null) return { ...held, retryAt: Number(row.held_retry_at) };
  return row.held_frees_at === null ? held : { ...held, freesAt: Number(row.held_frees_at) };
}
