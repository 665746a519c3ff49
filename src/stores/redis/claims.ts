/**
 * Claims (scripts/claim.lua), and what lets one take due work in a single round trip: a script
 * may only touch the keys it is given, so each claim passes the record keys of the ids it
 * expects to be due first (its candidates: what the previous claim read past its quota, plus
 * the ids enqueued here since). Lease tokens start with the function name, so a settle or
 * heartbeat finds the record key without asking the server first.
 */
import { nanoid } from 'nanoid';
import { decodeClaimed } from './codec.js';
import type { Keys } from './keys.js';
import type { Link } from './link.js';
import type { Step } from './scripts.js';
import type { Claimed, ClaimKind, ClaimRequest, ClaimResult } from '../contract.js';

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

  constructor(link: Link, keys: Keys) {
    this.#link = link;
    this.#keys = keys;
  }

  /** `requestId` was enqueued here, due at once: the next claim of its function expects it. */
  enqueued(functionName: string, requestId: string): void {
    const candidates = this.#candidates.get(functionName);
    if (candidates && candidates.length < CANDIDATES_MAX) candidates.push(requestId);
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const { slots } = request;
    if (slots.length === 0 || request.limit <= 0) return { items: [], nextDueAt: undefined };
    const items: Claimed[] = [];
    const quotas = slots.map((slot) => slot.limit);
    // Earliest dueAt per slot, from the latest script call that covered it.
    const nextDue: (number | undefined)[] = new Array<number | undefined>(slots.length);
    let pending = slots.map((_slot, s) => s);
    const tokenBase = nanoid(12);
    // Usually one round: the candidates guessed from the previous claim were the due ones.
    // When they were not (other processes enqueued or claimed), the script stopped early and
    // returned the right ones, so the next round takes them.
    for (let round = 0; round < MAX_CLAIM_ROUNDS && pending.length; round++) {
      pending = await this.#round(request, pending, quotas, nextDue, request.limit - items.length, items, `${tokenBase}${round}:`);
      if (items.length >= request.limit) break;
    }
    let nextDueAt: number | undefined;
    for (const at of nextDue) if (at !== undefined && (nextDueAt === undefined || at < nextDueAt)) nextDueAt = at;
    return { items, nextDueAt };
  }

  /**
   * One claim script per slot in `pending`, in one pipeline; updates `quotas`, `nextDue`, the
   * candidate cache and `items`. Returns the slots that should claim again.
   */
  async #round(
    request: ClaimRequest, pending: readonly number[], quotas: number[],
    nextDue: (number | undefined)[], limit: number, items: Claimed[], tokenBase: string,
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
      const cached = this.#candidates.get(fn);
      const candidates = n > 0 && cached ? cached.slice(0, n + CANDIDATES_SLACK) : [];
      const scriptKeys = keys.index(fn);
      for (const rid of candidates) scriptKeys.push(keys.record(fn, rid));
      steps.push({
        script: 'claim',
        keys: scriptKeys,
        args: [now, request.leaseMs, slot.maxEventAgeMs, `${fn}${TOKEN_SEPARATOR}${tokenBase}`, n,
          Math.min(Math.max(n, PEEK_MIN), PEEK_MAX), ...candidates],
      });
    }
    const replies = await this.#link.run(steps);
    const again: number[] = [];
    pending.forEach((s, i) => {
      const fn = slots[s]!.functionName;
      const reply = replies[i] as [string, string[], ...(string | (string | null)[])[]];
      nextDue[s] = reply[0] === '' ? undefined : Number(reply[0]);
      const candidates = reply[1];
      this.#candidates.set(fn, candidates);
      let taken = 0;
      for (let j = 2; j + 2 < reply.length; j += 3) {
        const record = decodeClaimed(fn, reply[j + 2] as (string | null)[]);
        if (record) items.push({ kind: reply[j] as ClaimKind, leaseToken: reply[j + 1] as string, record });
        taken++;
      }
      quotas[s] = quotas[s]! - taken;
      // Some are still due, and either fewer were taken than asked (the guess missed them, or hit
      // strays), or the slots before this one left it no room: it gets what they did not use, as
      // in the memory store, rather than waiting for the next claim.
      const room = taken < wanted[i]! || (wanted[i] === 0 && quotas[s]! > 0);
      if (room && candidates.length > 0) again.push(s);
    });
    return again;
  }
}
