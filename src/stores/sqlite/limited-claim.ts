/**
 * The claim of one slot with limits (concurrency, perSecond, groupConcurrency, grouped
 * round-robin) on SQLite. It runs inside the claim's write transaction, which holds the file's
 * write lock: the running counts, the start window and the groups' places read here cannot
 * change before it commits, in this process or any other. The rules and the order are the
 * memory store's (claim-gate.ts), so both answer alike.
 */
import { ClaimGate } from '../claim-gate.js';
import type { ClaimKind, ClaimSlot, FunctionLimits, HeldBack } from '../contract.js';
import { StartWindow } from '../limits.js';
import { claimKindOf, type MutableInvocation } from '../record-rules.js';
import type { GroupRow, Statements } from './statements.js';

/** What the store does with a record the claim took or found owing nothing. */
export interface ClaimSink {
  take(record: MutableInvocation, kind: ClaimKind): void;
  /** Due but owing nothing: it leaves the work index. */
  drop(record: MutableInvocation): void;
}

export interface LimitedClaim {
  readonly sql: Statements;
  readonly slot: ClaimSlot;
  readonly limits: FunctionLimits;
  /** At most this many taken. */
  readonly limit: number;
  readonly now: number;
  /** Adopt the function's groupless work into group '' first (a scan: the caller spaces these out). */
  readonly adoptGroupless: boolean;
  /** Lease tokens of attempts that ended (ClaimRequest.ended): not running. */
  readonly ended: ReadonlySet<string>;
}

/** Takes what the limits allow; returns why due work was left waiting, if it was. */
export function claimLimited(claim: LimitedClaim, sink: ClaimSink): HeldBack | undefined {
  const { sql, slot, limits, now } = claim;
  const fn = slot.functionName;
  const window = new StartWindow(limits.perSecond === undefined ? [] : sql.starts(fn, now));
  const gate = new ClaimGate({ ...slot, limits }, () => sql.runningGroups(fn, now, claim.ended), window, now);
  const startsBefore = window.starts.length;
  const free: DueSource = gate.grouped ? new GroupHeads(claim, gate) : new Pages((n) => sql.due(fn, false, now, n));
  const lapsed = new Pages((n) => sql.due(fn, true, now, n));
  let held: HeldBack['reason'] | undefined;
  for (let taken = 0; taken < claim.limit; ) {
    const remaining = claim.limit - taken;
    const top = free.peek(remaining);
    const expired = lapsed.peek(remaining);
    // Expired leases and due work in one order, oldest dueAt first (expired first on a tie).
    if (expired && (!top || expired.dueAt! <= top.dueAt!)) {
      lapsed.shift();
      const kind = claimKindOf(expired, now, slot);
      if (!kind) {
        sink.drop(expired);
        continue;
      }
      sink.take(expired, kind);
      gate.recovered(expired);
      taken++;
      continue;
    }
    if (!top) break;
    const kind = claimKindOf(top, now, slot);
    // A limit holds back runs only: expiring, recovering and delivering run no handler.
    if (kind === 'run') {
      held = gate.refusal(top);
      if (held) break;
    }
    if (!kind) {
      sink.drop(top);
      free.shift();
      continue;
    }
    sink.take(top, kind);
    // After the write: a group's next head is read from the index the take just changed.
    free.shift();
    if (kind === 'run') {
      gate.started(top, now);
      free.started();
    }
    taken++;
  }
  if (!held && gate.groupHeld) held = 'group';
  for (const at of window.starts.slice(startsBefore)) sql.addStart(fn, at);
  free.finish();
  return held ? gate.heldBack(fn, held) : undefined;
}

interface DueSource {
  /** The next due record, up to `wanted` of them read ahead. */
  peek(wanted: number): MutableInvocation | undefined;
  /** The peeked record was taken or dropped (and written). */
  shift(): void;
  /** The peeked record's run started. */
  started(): void;
  /** The claim is over: keep what the next claim needs. */
  finish(): void;
}

/** Due records of one range of the work index, read a page at a time. */
class Pages implements DueSource {
  readonly #read: (n: number) => MutableInvocation[];
  #page: MutableInvocation[] = [];
  #at = 0;
  #exhausted = false;

  constructor(read: (n: number) => MutableInvocation[]) {
    this.#read = read;
  }

  /** Records taken or dropped leave the range, so reading again goes on past them. */
  peek(wanted: number): MutableInvocation | undefined {
    if (this.#at === this.#page.length && !this.#exhausted) {
      this.#page = this.#read(wanted);
      this.#at = 0;
      this.#exhausted = this.#page.length < wanted;
    }
    return this.#page[this.#at];
  }

  shift(): void {
    this.#at++;
  }

  started(): void {}

  finish(): void {}
}

interface Group {
  readonly key: string;
  head: number | null;
  headAt: number | null;
  lastStarted: number;
  record: MutableInvocation | undefined;
}

/**
 * A grouped function's due work: the head of every group with free work, served round-robin
 * (the least recently started group first, then the earliest head), passing over groups at
 * their cap. Groups' places are kept in `limit_groups` between claims.
 */
class GroupHeads implements DueSource {
  readonly #claim: LimitedClaim;
  readonly #gate: ClaimGate;
  readonly #groups: Group[];
  readonly #started = new Set<Group>();
  #chosen: Group | undefined;
  #seq: number | undefined;

  constructor(claim: LimitedClaim, gate: ClaimGate) {
    this.#claim = claim;
    this.#gate = gate;
    if (claim.adoptGroupless) claim.sql.adoptGroupless(claim.slot.functionName);
    this.#groups = claim.sql.groups(claim.slot.functionName, claim.now).map((row: GroupRow) => ({
      key: row.group_key,
      head: row.head,
      headAt: row.head_at,
      lastStarted: row.last_started,
      record: undefined,
    }));
  }

  peek(): MutableInvocation | undefined {
    const { now, slot } = this.#claim;
    let best: Group | undefined;
    for (const group of this.#groups) {
      if (group.head === null) continue;
      // A full group's head waits, unless it is not a run (expiring work is still taken).
      if (this.#gate.groupFull(group.key) && claimKindOf(this.#record(group), now, slot) === 'run') {
        this.#gate.groupHeld = true;
        this.#gate.passedOver(this.#record(group));
        continue;
      }
      if (!best || group.lastStarted < best.lastStarted || (group.lastStarted === best.lastStarted && headFirst(group, best))) best = group;
    }
    this.#chosen = best;
    return best && this.#record(best);
  }

  /** The chosen head was taken or dropped: the group's next due work becomes its head. */
  shift(): void {
    const group = this.#chosen!;
    const next = this.#claim.sql.groupHead(this.#claim.slot.functionName, group.key, this.#claim.now);
    group.head = next?.head ?? null;
    group.headAt = next?.head_at ?? null;
    group.record = undefined;
  }

  started(): void {
    const group = this.#chosen!;
    this.#seq ??= this.#claim.sql.lastStarted(this.#claim.slot.functionName);
    group.lastStarted = ++this.#seq;
    this.#started.add(group);
  }

  finish(): void {
    const { sql, slot } = this.#claim;
    for (const group of this.#started) sql.setStarted(slot.functionName, group.key, group.lastStarted);
    sql.forgetIdleGroups(slot.functionName);
  }

  #record(group: Group): MutableInvocation {
    group.record ??= this.#claim.sql.byRowid(group.head!);
    return group.record;
  }
}

/** Equal due times go in insertion (rowid) order, as in the memory store. */
function headFirst(a: Group, b: Group): boolean {
  return a.headAt! < b.headAt! || (a.headAt === b.headAt && a.head! < b.head!);
}
