/**
 * Claims (scripts/claim.lua), and what lets one take due work in a single round trip: a script
 * may only touch the keys it is given, so each claim passes the record keys of the ids it
 * expects to take first (its candidates: what the previous claim read past its quota or planned
 * next, plus the ids enqueued here since). Lease tokens start with the function name, so a
 * settle or heartbeat finds the record key without asking the server first.
 *
 * A slot's limits go to the script with it, which decides them as it takes work (see
 * claim-gate.lua); a grouped slot's function first has its groupless work adopted (adopt.lua).
 */
import { nanoid } from 'nanoid';
import { decodeClaimed } from './codec.js';
import type { Keys } from './keys.js';
import type { Link } from './link.js';
import type { Step } from './scripts.js';
import { limitsAnything } from '../claim-gate.js';
import type { Claimed, ClaimKind, ClaimRequest, ClaimResult, ClaimSlot, HeldBack } from '../contract.js';

/** Separates the function name from the random part of a lease token (names cannot hold it). */
const TOKEN_SEPARATOR = '|';
/** Rounds a claim makes when other claimers took its candidates first. */
const MAX_CLAIM_ROUNDS = 4;
/** Due entries a claim reads beyond its quota (as many again, within these): the next one's candidates. */
const PEEK_MIN = 4;
const PEEK_MAX = 1000;
/** Candidates passed beyond a claim's quota, for ids another process claimed meanwhile. */
const CANDIDATES_SLACK = 4;
/** Ids enqueued here are added to a function's candidates up to this many. */
const CANDIDATES_MAX = 2000;
/** A grouped function's work is adopted (adopt.lua) at its first grouped claim here, then at most this often (store time). */
const ADOPTION_INTERVAL_MS = 30_000;
/** Records placed per adopt script call (each is a key of the call). */
const ADOPTION_CHUNK = 1000;

/** The function a lease token was issued for, if it is one of ours. */
export function functionOfToken(token: string): string | undefined {
  const at = token.indexOf(TOKEN_SEPARATOR);
  return at > 0 ? token.slice(0, at) : undefined;
}

export class Claims {
  readonly #link: Link;
  readonly #keys: Keys;
  /**
   * Per function claimed here: the ids due first as the last claim saw them, plus those
   * enqueued here since. The next claim passes their record keys, so it needs no read first.
   */
  readonly #candidates = new Map<string, string[]>();
  /**
   * Per function, ids enqueued here since its last claim, with their due times: they join the
   * candidates in the due index's order, due time then id (a sorted set orders equal scores by
   * member), not in enqueue order, or the claim would stop at the first one out of place.
   */
  readonly #fresh = new Map<string, [at: number, requestId: string][]>();
  /** Per grouped function: when its due work was last adopted into the group indexes (store time). */
  readonly #adoptedAt = new Map<string, number>();

  constructor(link: Link, keys: Keys) {
    this.#link = link;
    this.#keys = keys;
  }

  /** `requestId` was enqueued here, due at `at` (at once): the next claim of its function expects it. */
  enqueued(functionName: string, requestId: string, at: number): void {
    const candidates = this.#candidates.get(functionName);
    if (!candidates) return;
    let fresh = this.#fresh.get(functionName);
    if (!fresh) this.#fresh.set(functionName, (fresh = []));
    if (candidates.length + fresh.length < CANDIDATES_MAX) fresh.push([at, requestId]);
  }

  /** The candidates of `fn`'s next claim: what its last one read past its quota, then those enqueued here since. */
  #candidatesOf(fn: string): string[] | undefined {
    const cached = this.#candidates.get(fn);
    const fresh = this.#fresh.get(fn);
    if (!cached || !fresh?.length) return cached;
    fresh.sort(([a, x], [b, y]) => a - b || (x < y ? -1 : x > y ? 1 : 0));
    const merged = [...cached];
    for (const [, rid] of fresh) merged.push(rid);
    this.#candidates.set(fn, merged);
    this.#fresh.delete(fn);
    return merged;
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const { slots } = request;
    if (slots.length === 0 || request.limit <= 0) return { items: [], nextDueAt: undefined };
    await this.#adopt(request);
    const items: Claimed[] = [];
    const quotas = slots.map((slot) => slot.limit);
    // Earliest dueAt per slot, and what its limits held back, from the latest script call that covered it.
    const nextDue: (number | undefined)[] = new Array<number | undefined>(slots.length);
    const held: (HeldBack | undefined)[] = new Array<HeldBack | undefined>(slots.length);
    let pending = slots.map((_slot, s) => s);
    const tokenBase = nanoid(12);
    // Usually one round: the candidates guessed from the previous claim were the due ones.
    // When they were not (other processes enqueued or claimed), the script stopped early and
    // returned the right ones, so the next round takes them.
    for (let round = 0; round < MAX_CLAIM_ROUNDS && pending.length; round++) {
      pending = await this.#round(request, pending, quotas, { nextDue, held }, request.limit - items.length, items, `${tokenBase}${round}:`);
      if (items.length >= request.limit) break;
    }
    let nextDueAt: number | undefined;
    for (const at of nextDue) if (at !== undefined && (nextDueAt === undefined || at < nextDueAt)) nextDueAt = at;
    const heldBack = held.filter((h): h is HeldBack => h !== undefined);
    return heldBack.length ? { items, nextDueAt, heldBack } : { items, nextDueAt };
  }

  /**
   * Due work of the grouped slots' functions that their group indexes lack (groupless work joins
   * group '') is put in them (scripts/adopt.lua), at the first grouped claim here and then every
   * ADOPTION_INTERVAL_MS: one round trip when due (three counts when nothing lacks), and one
   * more for work only its record places.
   */
  async #adopt(request: ClaimRequest): Promise<void> {
    const due = request.slots.filter((slot) => {
      if (slot.limits?.grouped !== true) return false;
      const last = this.#adoptedAt.get(slot.functionName);
      return last === undefined || request.now - last >= ADOPTION_INTERVAL_MS;
    }).map((slot) => slot.functionName);
    if (due.length === 0) return;
    for (const fn of due) this.#adoptedAt.set(fn, request.now);
    const replies = await this.#link.run(due.map((fn) => ({ script: 'adopt', keys: this.#keys.index(fn), args: [] })));
    const placing: Step[] = [];
    due.forEach((fn, i) => {
      const ids = replies[i] as string[];
      for (let at = 0; at < ids.length; at += ADOPTION_CHUNK) {
        const chunk = ids.slice(at, at + ADOPTION_CHUNK);
        placing.push({ script: 'adopt', keys: [...this.#keys.index(fn), ...chunk.map((rid) => this.#keys.record(fn, rid))], args: chunk });
      }
    });
    await this.#link.run(placing);
  }

  /**
   * One claim script per slot in `pending`, in one pipeline; updates `quotas`, `seen`, the
   * candidate cache and `items`. Returns the slots that should claim again.
   */
  async #round(
    request: ClaimRequest, pending: readonly number[], quotas: number[],
    seen: SlotState, limit: number, items: Claimed[], tokenBase: string,
  ): Promise<number[]> {
    const keys = this.#keys;
    const { now, slots } = request;
    const steps: Step[] = [];
    const wanted: number[] = [];
    let remaining = limit;
    for (const s of pending) {
      const slot = slots[s]!;
      const n = Math.min(quotas[s]!, remaining);
      remaining -= n;
      wanted.push(n);
      const fn = slot.functionName;
      const cached = this.#candidatesOf(fn);
      const candidates = n > 0 && cached ? cached.slice(0, n + CANDIDATES_SLACK) : [];
      // Attempts this worker ended, settlements on the way: not running while they hold their leases.
      const ending = countsRunning(slot) && request.ended ? request.ended.filter((e) => e.functionName === fn) : [];
      // What this claim took in earlier rounds runs now, but did not when the claim began.
      const own = countsRunning(slot) ? items.filter((c) => c.record.functionName === fn).map((c) => c.record.requestId) : [];
      const scriptKeys = [...keys.index(fn), ...keys.limits(fn)];
      for (const e of ending) scriptKeys.push(keys.record(fn, e.requestId));
      for (const rid of candidates) scriptKeys.push(keys.record(fn, rid));
      steps.push({
        script: 'claim',
        keys: scriptKeys,
        args: [now, request.leaseMs, slot.maxEventAgeMs, `${fn}${TOKEN_SEPARATOR}${tokenBase}`, n,
          Math.min(Math.max(n, PEEK_MIN), PEEK_MAX), ...limitArgs(slot), ending.length,
          ...ending.flatMap((e) => [e.requestId, e.leaseToken]), own.length, ...own, ...candidates],
      });
    }
    const replies = await this.#link.run(steps);
    const again: number[] = [];
    const capped: number[] = [];
    let left = limit;
    pending.forEach((s, i) => {
      const fn = slots[s]!.functionName;
      const reply = replies[i] as ClaimReply;
      seen.nextDue[s] = reply[0] === '' ? undefined : Number(reply[0]);
      const candidates = reply[1];
      // Ids enqueued before this script ran are in what it read; later ones are added again.
      this.#candidates.set(fn, candidates);
      this.#fresh.delete(fn);
      // A call with no room looked at nothing: what an earlier one held back stands.
      if (wanted[i]! > 0) seen.held[s] = heldBackOf(fn, reply[3]);
      let taken = 0;
      for (let j = 4; j + 2 < reply.length; j += 3) {
        const record = decodeClaimed(fn, reply[j + 2] as (string | null)[]);
        if (record) items.push({ kind: reply[j] as ClaimKind, leaseToken: reply[j + 1] as string, record });
        taken++;
      }
      const before = quotas[s]!;
      quotas[s] = before - taken;
      left -= taken;
      if (candidates.length === 0) return;
      // The script stopped at work it was not given the record of (the guess missed it).
      if (reply[2] === '1') again.push(s);
      // The slots before this one left it less than its quota, and it took all it was given:
      // it gets what they did not use, as in the memory store, rather than waiting for the next claim.
      else if (taken === wanted[i] && wanted[i]! < before) capped.push(s);
    });
    if (left > 0) again.push(...capped);
    return again.sort((a, b) => a - b);
  }
}

/** What a round learned of each slot. */
interface SlotState {
  readonly nextDue: (number | undefined)[];
  readonly held: (HeldBack | undefined)[];
}

/** scripts/claim.lua's reply: nextDueAt, candidates, again, heldBack, then kind, token, fields per item. */
type ClaimReply = [string, string[], string, string[], ...(string | (string | null)[])[]];

/** ARGV[7..10] of scripts/claim.lua: the slot's limits ('' = none; all '' for a slot without any). */
function limitArgs(slot: ClaimSlot): string[] {
  const limits = slot.limits;
  if (!limitsAnything(limits)) return ['', '', '', ''];
  const n = (v: number | undefined) => (v === undefined ? '' : String(v));
  return [n(limits.concurrency), n(limits.perSecond), n(limits.groupConcurrency), limits.grouped ? '1' : ''];
}

/** Whether the slot's limits count running attempts (concurrency or groupConcurrency). */
function countsRunning(slot: ClaimSlot): boolean {
  return slot.limits?.concurrency !== undefined || slot.limits?.groupConcurrency !== undefined;
}

function heldBackOf(functionName: string, reply: string[]): HeldBack | undefined {
  if (reply.length === 0) return undefined;
  const [reason, expiresAt, retryAt, lapseAt] = reply as [HeldBack['reason'], string, string, string];
  if (reason === 'rate') return { functionName, reason, retryAt: Number(retryAt), expiresAt: Number(expiresAt) };
  return lapseAt ? { functionName, reason, expiresAt: Number(expiresAt), freesAt: Number(lapseAt) } : { functionName, reason, expiresAt: Number(expiresAt) };
}
