/**
 * One slot with limits, claimed in the transaction it is given: the function's advisory lock
 * (limit-lock.sql), the reads limited-claim.ts asks for (limit-*.sql), then its decision written
 * in one statement (limit-take.sql).
 */
import type { RunningAttempt } from '../claim-gate.js';
import type { Claimed, ClaimKind, HeldBack } from '../contract.js';
import { decideLimited, type DueRange, type DueRow, type GroupHead, type LimitedClaim, type LimitedReads, type LimitState } from './limited-claim.js';
import { toRecord, type RecordRow } from './rows.js';
import type { TxQuery } from './transaction.js';

type DueRowRow = RecordRow & { seq: string };

/** What the slot took, why it left work waiting (if it did), and how many rows left the work index. */
export interface LimitedSlotResult {
  readonly items: Claimed[];
  readonly heldBack: HeldBack | undefined;
  readonly cleared: number;
}

export async function claimLimitedSlot(query: TxQuery, claim: LimitedClaim, leaseMs: number): Promise<LimitedSlotResult> {
  const fn = claim.slot.functionName;
  await query('limit-lock', [fn]);
  const decision = await decideLimited(claim, reads(query, fn, claim.now));
  const { taken, cleared, starts, groupsStarted, grouped, heldBack } = decision;
  if (taken.length === 0 && cleared.length === 0 && starts.length === 0 && !grouped) return { items: [], heldBack, cleared: 0 };
  const rows = await query<RecordRow & { kind: ClaimKind }>('limit-take', [
    JSON.stringify(taken.map((t, o) => ({ r: t.row.record.requestId, k: t.kind, o }))),
    cleared,
    claim.now,
    leaseMs,
    fn,
    starts,
    JSON.stringify(groupsStarted),
    grouped,
  ]);
  return { items: rows.map((row) => ({ kind: row.kind, leaseToken: row.lease_token!, record: toRecord(row) })), heldBack, cleared: cleared.length };
}

function reads(query: TxQuery, fn: string, now: number): LimitedReads {
  return {
    async state(countRunning, readStarts): Promise<LimitState> {
      const [row] = await query<{ running: [string, number, number][]; starts: string[]; last_started: string }>('limit-state', [
        fn,
        now,
        countRunning,
        readStarts,
      ]);
      // Per group, its count of attempts, each with the group's earliest lease end: the gate
      // counts them and keeps the earliest end of all.
      const running: RunningAttempt[] = [];
      for (const [group, n, ends] of row!.running) for (let i = 0; i < n; i++) running.push([group, ends]);
      return { running, starts: row!.starts.map(Number), lastStarted: Number(row!.last_started) };
    },
    async page(range: DueRange, after: DueRow | undefined, n: number): Promise<DueRow[]> {
      const rows = await query<DueRowRow>('limit-page', [
        fn,
        range.kind,
        range.kind === 'group' ? range.group : null,
        now,
        after?.dueAt ?? null,
        after === undefined ? null : String(after.seq),
        n,
      ]);
      return rows.map(dueRow);
    },
    async groups(perGroup: number): Promise<GroupHead[]> {
      const rows = await query<DueRowRow & { group_id: string; last_started: string }>('limit-groups', [fn, now, perGroup]);
      const groups: GroupHead[] = [];
      for (const row of rows) {
        let group = groups.at(-1);
        if (group?.group !== row.group_id) groups.push((group = { group: row.group_id, lastStarted: Number(row.last_started), rows: [] }));
        group.rows.push(dueRow(row));
      }
      return groups;
    },
    async adoptGroupless(): Promise<void> {
      await query('limit-adopt', [fn]);
    },
  };
}

function dueRow(row: DueRowRow): DueRow {
  const record = toRecord(row);
  return { record, dueAt: record.dueAt!, seq: BigInt(row.seq) };
}
