/**
 * One slot with limits, claimed in the transaction it is given: the function's lock
 * (limit-lock.sql), the reads limited-claim.ts asks for (limit-*.sql), then its decision written
 * in one statement (limit-take.sql) and committed. The lock and the first reads the claim will
 * make go out together, as do the write and the commit: two round trips on a pipelining client.
 */
import type { RunningAttempt } from '../claim-gate.js';
import type { Claimed, ClaimKind, HeldBack } from '../contract.js';
import { decideLimited, FIRST_ROWS_PER_GROUP, type DueRange, type DueRow, type GroupHead, type LimitedClaim, type LimitedReads, type LimitState } from './limited-claim.js';
import { toRecord, type RecordRow } from './rows.js';
import type { Tx, TxQuery } from './transaction.js';

/** What the slot took, why it left work waiting (if it did), and how many rows left the work index. */
export interface LimitedSlotResult {
  readonly items: Claimed[];
  readonly heldBack: HeldBack | undefined;
  readonly cleared: number;
  /** The function's earliest due time after the claim. */
  readonly nextDueAt: number | undefined;
}

type DueRowRow = RecordRow & { seq: string };
type StateRow = { running: [string, number, number][]; starts: string[]; last_started: string; next_due: string | null };

export async function claimLimitedSlot(tx: Tx, claim: LimitedClaim, leaseMs: number): Promise<LimitedSlotResult> {
  const fn = claim.slot.functionName;
  const reads = new Reads(tx.query, claim);
  const decision = await decideLimited(claim, reads);
  const { taken, cleared, starts, groupsStarted, grouped, heldBack } = decision;
  const stateDue = nullableNumber((await reads.stateRow).next_due);
  if (taken.length === 0 && cleared.length === 0 && starts.length === 0 && !grouped) {
    return { items: [], heldBack, cleared: 0, nextDueAt: stateDue };
  }
  const written = tx.query<RecordRow & { kind: ClaimKind | null; next_due: string | null }>('limit-take', [
    JSON.stringify(taken.map((t, o) => ({ r: t.row.record.requestId, k: t.kind, o }))),
    cleared,
    claim.now,
    leaseMs,
    fn,
    starts,
    JSON.stringify(groupsStarted),
    grouped,
  ]);
  const [rows] = await Promise.all([written, tx.commit()]);
  const items: Claimed[] = [];
  for (const row of rows) if (row.kind !== null) items.push({ kind: row.kind, leaseToken: row.lease_token!, record: toRecord(row) });
  return { items, heldBack, cleared: cleared.length, nextDueAt: nullableNumber(rows[0]?.next_due ?? null) };
}

/**
 * The claim's reads. The lock and the reads the claim starts with (its state, the first page of
 * free work or the groups' heads, the first page of expired leases) are sent at once; later reads
 * (pages past the first) one at a time.
 */
class Reads implements LimitedReads {
  readonly #query: TxQuery;
  readonly #fn: string;
  readonly #now: number;
  readonly stateRow: Promise<StateRow>;
  /** The first reads, by the arguments the claim asks for them with; each served once. */
  readonly #first = new Map<string, Promise<DueRowRow[]>>();
  readonly #groups: Promise<(DueRowRow & { group_id: string; last_started: string })[]> | undefined;

  constructor(query: TxQuery, claim: LimitedClaim) {
    const { slot, limits, limit, now } = claim;
    this.#query = query;
    this.#fn = slot.functionName;
    this.#now = now;
    void query('limit-lock', [this.#fn]);
    const countRunning = limits.concurrency !== undefined || limits.groupConcurrency !== undefined;
    this.stateRow = query<StateRow>('limit-state', [this.#fn, now, countRunning, limits.perSecond !== undefined, claim.ended]).then((rows) => rows[0]!);
    if (limits.grouped === true) {
      // Before the groups are read: groupless work joins group ''.
      if (claim.adoptGroupless) void query('limit-adopt', [this.#fn]);
      this.#groups = query('limit-groups', [this.#fn, now, FIRST_ROWS_PER_GROUP]);
    } else {
      this.#first.set(pageKey({ kind: 'free' }, limit), this.#page({ kind: 'free' }, undefined, limit));
    }
    this.#first.set(pageKey({ kind: 'leased' }, limit), this.#page({ kind: 'leased' }, undefined, limit));
  }

  async state(): Promise<LimitState> {
    const row = await this.stateRow;
    // Per group, its count of attempts, each with the group's earliest lease end: the gate counts
    // them and keeps the earliest end of all.
    const running: RunningAttempt[] = [];
    for (const [group, n, ends] of row.running) for (let i = 0; i < n; i++) running.push([group, ends]);
    return { running, starts: row.starts.map(Number), lastStarted: Number(row.last_started) };
  }

  async page(range: DueRange, after: DueRow | undefined, n: number): Promise<DueRow[]> {
    const key = after === undefined ? pageKey(range, n) : undefined;
    const first = key === undefined ? undefined : this.#first.get(key);
    if (key !== undefined) this.#first.delete(key);
    return (await (first ?? this.#page(range, after, n))).map(dueRow);
  }

  async groups(): Promise<GroupHead[]> {
    const groups: GroupHead[] = [];
    for (const row of (await this.#groups) ?? []) {
      let group = groups.at(-1);
      if (group?.group !== row.group_id) groups.push((group = { group: row.group_id, lastStarted: Number(row.last_started), rows: [] }));
      group.rows.push(dueRow(row));
    }
    return groups;
  }

  #page(range: DueRange, after: DueRow | undefined, n: number): Promise<DueRowRow[]> {
    const group = range.kind === 'group' ? range.group : null;
    return this.#query<DueRowRow>('limit-page', [this.#fn, range.kind, group, this.#now, after?.dueAt ?? null, after === undefined ? null : String(after.seq), n]);
  }
}

function pageKey(range: DueRange, n: number): string {
  return `${range.kind}\u0000${range.kind === 'group' ? range.group : ''}\u0000${n}`;
}

function dueRow(row: DueRowRow): DueRow {
  const record = toRecord(row);
  return { record, dueAt: record.dueAt!, seq: BigInt(row.seq) };
}

function nullableNumber(value: string | null): number | undefined {
  return value === null ? undefined : Number(value);
}
