/**
 * What the claim of one slot with limits (concurrency, perSecond, groupConcurrency, grouped
 * round-robin) takes on PostgreSQL. The rules and the order are the memory store's
 * (claim-gate.ts), applied as SQLite's limited-claim.ts applies them, so every store answers
 * alike. It runs inside a transaction that holds the function's lock (its limit_functions row):
 * the running attempts, the start window and the groups' places it reads cannot change before
 * the decision is written (limit-take.sql), in this process or any other. Due rows are read a
 * page at a time, in claim order, locked; nothing is written until the end, so a page past a
 * cursor goes on where the last one ended.
 */
import { ClaimGate, type RunningAttempt } from '../claim-gate.js';
import type { ClaimKind, ClaimSlot, FunctionLimits, HeldBack, StoredInvocation } from '../contract.js';
import { StartWindow } from '../limits.js';
import { claimKindOf } from '../record-rules.js';

/** A due row as read, with its place in claim order: (dueAt, seq). */
export interface DueRow {
  readonly record: StoredInvocation;
  readonly dueAt: number;
  /** Insertion order. */
  readonly seq: bigint;
}

/** One range of the function's due work: expired leases, free work, or one group's free work. */
export type DueRange = { readonly kind: 'leased' } | { readonly kind: 'free' } | { readonly kind: 'group'; readonly group: string };

/** A group with due free work: its first rows, and its place in the round-robin. */
export interface GroupHead {
  /** The key as stored ('' for adopted groupless work). */
  readonly group: string;
  readonly lastStarted: number;
  readonly rows: DueRow[];
}

export interface LimitState {
  /** Each running attempt: its group key ('' for none) and lease end (read only when asked). */
  readonly running: readonly RunningAttempt[];
  /** Starts in the last second, oldest first (read only when asked). */
  readonly starts: readonly number[];
  /** The latest round-robin place given out for the function. */
  readonly lastStarted: number;
}

/** The reads of a limited claim, inside its transaction. */
export interface LimitedReads {
  /** Running attempts counted when a limit counts them; starts read when `perSecond` is set. */
  state(): Promise<LimitState>;
  /** Up to `n` rows of the range past `after` (from its start without), in claim order. */
  page(range: DueRange, after: DueRow | undefined, n: number): Promise<DueRow[]>;
  /**
   * The groups with due free work, up to FIRST_ROWS_PER_GROUP rows each; with
   * `LimitedClaim.adoptGroupless`, after the function's groupless work joined group ''.
   */
  groups(): Promise<GroupHead[]>;
}

export interface LimitedClaim {
  readonly slot: ClaimSlot;
  readonly limits: FunctionLimits;
  /** At most this many taken. */
  readonly limit: number;
  readonly now: number;
  /** Adopt the function's groupless work first (a scan: the caller spaces these out). */
  readonly adoptGroupless: boolean;
  /** Lease tokens of attempts that ended, their settlements still being written: not running. */
  readonly ended: readonly string[];
}

/** What the claim decided, for limit-take.sql to write. */
export interface LimitedDecision {
  /** In take order. */
  readonly taken: { readonly row: DueRow; readonly kind: ClaimKind }[];
  /** Due rows owing nothing: they leave the work index. */
  readonly cleared: string[];
  /** Starts to add to the window. */
  readonly starts: number[];
  /** The groups that started an attempt, with their new round-robin place. */
  readonly groupsStarted: { readonly g: string; readonly s: number }[];
  readonly grouped: boolean;
  readonly heldBack: HeldBack | undefined;
}

/** Rows read per group at first: a group's next ones are read once it is served again. */
export const FIRST_ROWS_PER_GROUP = 1;

export async function decideLimited(claim: LimitedClaim, reads: LimitedReads): Promise<LimitedDecision> {
  const { slot, limits, now } = claim;
  const state = await reads.state();
  const window = new StartWindow(state.starts);
  const gate = new ClaimGate({ ...slot, limits }, () => state.running, window, now);
  const startsBefore = window.starts.length;
  const free: DueSource = gate.grouped ? await GroupHeads.open(claim, gate, reads, state.lastStarted) : new Pages(reads, { kind: 'free' });
  const lapsed = new Pages(reads, { kind: 'leased' });
  const taken: LimitedDecision['taken'] = [];
  const cleared: string[] = [];
  let held: HeldBack['reason'] | undefined;
  while (taken.length < claim.limit) {
    const remaining = claim.limit - taken.length;
    const top = await free.peek(remaining);
    const expired = await lapsed.peek(remaining);
    // Expired leases and due work in one order, oldest dueAt first (expired first on a tie).
    if (expired && (!top || expired.dueAt <= top.dueAt)) {
      await lapsed.shift();
      const kind = claimKindOf(expired.record, now, slot);
      if (!kind) {
        cleared.push(expired.record.requestId);
        continue;
      }
      taken.push({ row: expired, kind });
      // Counted as the claim leaves it: a lapsed lease of expiring work may now start a run.
      gate.recovered(kind === 'run' ? { ...expired.record, status: 'Running' } : expired.record);
      continue;
    }
    if (!top) break;
    const kind = claimKindOf(top.record, now, slot);
    // A limit holds back runs only: expiring, recovering and delivering run no handler.
    if (kind === 'run') {
      held = gate.refusal(top.record);
      if (held) break;
    }
    await free.shift(remaining);
    if (!kind) {
      cleared.push(top.record.requestId);
      continue;
    }
    taken.push({ row: top, kind });
    if (kind === 'run') {
      gate.started(top.record, now);
      free.started();
    }
  }
  if (!held && gate.groupHeld) held = 'group';
  return {
    taken,
    cleared,
    starts: window.starts.slice(startsBefore),
    groupsStarted: free.groupsStarted(),
    grouped: gate.grouped,
    heldBack: held ? gate.heldBack(slot.functionName, held) : undefined,
  };
}

interface DueSource {
  /** The next due row, up to `wanted` of them read ahead. */
  peek(wanted: number): Promise<DueRow | undefined>;
  /** The peeked row was taken or cleared. */
  shift(wanted: number): Promise<void>;
  /** The peeked row's run started. */
  started(): void;
  groupsStarted(): LimitedDecision['groupsStarted'];
}

/** One range of due rows, read a page at a time. */
class Pages implements DueSource {
  readonly #reads: LimitedReads;
  readonly #range: DueRange;
  #page: DueRow[] = [];
  #at = 0;
  #exhausted = false;

  constructor(reads: LimitedReads, range: DueRange) {
    this.#reads = reads;
    this.#range = range;
  }

  async peek(wanted: number): Promise<DueRow | undefined> {
    if (this.#at === this.#page.length && !this.#exhausted) {
      this.#page = await this.#reads.page(this.#range, this.#page[this.#at - 1], wanted);
      this.#at = 0;
      this.#exhausted = this.#page.length < wanted;
    }
    return this.#page[this.#at];
  }

  shift(): Promise<void> {
    this.#at++;
    return Promise.resolve();
  }

  started(): void {}

  groupsStarted(): LimitedDecision['groupsStarted'] {
    return [];
  }
}

interface Group {
  readonly key: string;
  lastStarted: number;
  /** Its due rows read and not yet taken, in claim order; the first is its head. */
  rows: DueRow[];
  exhausted: boolean;
}

/**
 * A grouped function's due work: the head of every group with due work, served round-robin
 * (the least recently started group first, then the earliest head), passing over groups at
 * their cap. Groups' places are kept in `limit_groups` between claims.
 */
class GroupHeads implements DueSource {
  readonly #claim: LimitedClaim;
  readonly #gate: ClaimGate;
  readonly #reads: LimitedReads;
  readonly #groups: Group[];
  readonly #started = new Set<Group>();
  #chosen: Group | undefined;
  #seq: number;

  private constructor(claim: LimitedClaim, gate: ClaimGate, reads: LimitedReads, heads: GroupHead[], lastStarted: number) {
    this.#claim = claim;
    this.#gate = gate;
    this.#reads = reads;
    this.#seq = lastStarted;
    this.#groups = heads.map((h) => ({ key: h.group, lastStarted: h.lastStarted, rows: h.rows, exhausted: h.rows.length < FIRST_ROWS_PER_GROUP }));
  }

  static async open(claim: LimitedClaim, gate: ClaimGate, reads: LimitedReads, lastStarted: number): Promise<GroupHeads> {
    return new GroupHeads(claim, gate, reads, await reads.groups(), lastStarted);
  }

  peek(): Promise<DueRow | undefined> {
    const { now, slot } = this.#claim;
    let best: Group | undefined;
    for (const group of this.#groups) {
      const head = group.rows[0];
      if (!head) continue;
      // A full group's head waits, unless it is not a run (expiring work is still taken).
      if (this.#gate.groupFull(group.key) && claimKindOf(head.record, now, slot) === 'run') {
        this.#gate.groupHeld = true;
        this.#gate.passedOver(head.record);
        continue;
      }
      if (!best || group.lastStarted < best.lastStarted || (group.lastStarted === best.lastStarted && headFirst(head, best.rows[0]!))) best = group;
    }
    this.#chosen = best;
    return Promise.resolve(best?.rows[0]);
  }

  /** The chosen head was taken or cleared: the group's next due row becomes its head. */
  async shift(wanted: number): Promise<void> {
    const group = this.#chosen!;
    const gone = group.rows.shift();
    if (group.rows.length > 0 || group.exhausted) return;
    group.rows = await this.#reads.page({ kind: 'group', group: group.key }, gone, wanted);
    group.exhausted = group.rows.length < wanted;
  }

  started(): void {
    const group = this.#chosen!;
    group.lastStarted = ++this.#seq;
    this.#started.add(group);
  }

  groupsStarted(): LimitedDecision['groupsStarted'] {
    return [...this.#started].map((group) => ({ g: group.key, s: group.lastStarted }));
  }
}

/** Equal due times go in insertion (seq) order, as in the memory store. */
function headFirst(a: DueRow, b: DueRow): boolean {
  return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.seq < b.seq);
}
