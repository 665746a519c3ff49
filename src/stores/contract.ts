/**
 * The store contract. A store is the only shared state: every process pointed at the same
 * store sees the same invocations. Every store passes `test/stores/conformance.ts`.
 *
 * Time: stores never read a clock. Every operation receives `now` (epoch ms) from the
 * invoker's clock, so a fake clock drives every store in tests, and processes that share a
 * store must keep their clocks in sync (NTP) to within a small part of `leaseSeconds`.
 *
 * The work index: each invocation has at most one `dueAt`, the time the store should next
 * hand it to a worker. It means "run" for `Enqueued`/`Retrying`, "lease expires" for
 * `Running`/`Stopping`, and "deliver to a destination" for a final status with a pending
 * delivery. `claim` takes whatever is due, ordered by `dueAt`, and leases it. A final record
 * with nothing owed has no `dueAt`: if one is ever found due, the claim clears it rather than
 * returning to it (or reporting it as the next due time) again and again.
 *
 * Failures: every operation rejects with a `StoreError` whose `cause` is the driver's error and
 * whose message names the store and what to check; it never hangs past the store's documented
 * bound while its server is down. After `close()`, every operation rejects with `StoreError`.
 * Failures of background work (retention, wake-ups, a throwing listener) go to `onError`.
 */
import type { StoreError } from '../errors.js';
import type {
  Condition,
  InvocationError,
  InvocationEvent,
  InvocationRecord,
  InvocationStatus,
  JsonValue,
} from '../types.js';

/** A destination delivery owed by a finished invocation. */
export interface DeliveryState {
  readonly target: 'onSuccess' | 'onFailure';
  readonly status: 'Pending' | 'Succeeded' | 'Failed';
  /** Delivery attempts made so far. */
  readonly attempts: number;
  /** When the first attempt became due (the 30-minute retry window starts here). */
  readonly since: number;
}

/** What a store keeps per invocation: the public record plus the fields the runtime needs. */
export interface StoredInvocation extends InvocationRecord {
  /** When to hand this invocation to a worker next; undefined = nothing to do. */
  readonly dueAt?: number;
  /** The fencing token of the live lease; undefined = not leased. */
  readonly leaseToken?: string;
  /** Throttled attempts (they do not consume retry attempts). */
  readonly throttles: number;
  /**
   * Attempts lost to a worker that died mid-attempt (its lease expired: `WorkerLost`). They do
   * not consume retry attempts; the function's `maxLostAttempts` bounds them instead.
   */
  readonly lostAttempts: number;
  /** Attempts interrupted by a worker shutting down (`WorkerShutdown`): they consume nothing. */
  readonly interruptedAttempts: number;
  /** Destination hops that led to this invocation (0 for a direct call). */
  readonly hops: number;
  readonly delivery?: DeliveryState;
  /** See NewInvocation.traceContext. */
  readonly traceContext?: string;
  /** See NewInvocation.groupKey. */
  readonly groupKey?: string;
}

export interface NewInvocation {
  readonly requestId: string;
  readonly functionName: string;
  readonly payload: JsonValue;
  readonly createdAt: number;
  readonly scheduledAt: number;
  readonly invocationId?: string | undefined;
  /**
   * Canonical JSON of the payload (sorted keys), present when `invocationId` is: a repeat with
   * an equal key is a duplicate, with another key a conflict.
   */
  readonly payloadKey?: string;
  readonly hops: number;
  /** Appended as the first event (status `Enqueued`, attempt 0). */
  readonly detail?: string;
  /** The request id this invocation re-runs (`rerunInvocation`). */
  readonly rerunOf?: string;
  /**
   * The W3C trace context the invocation was created in (`traceparent`, then `;` and
   * `tracestate` if any), so a worker anywhere continues the trace. Opaque to stores.
   */
  readonly traceContext?: string;
  /** The fairness group (the function's `limits.groupBy` of the payload), for grouped claims. */
  readonly groupKey?: string;
}

export type EnqueueOutcome = 'created' | 'duplicate' | 'conflict';
export interface EnqueueResult {
  /** The new request id, or on `duplicate`/`conflict` the one the first call got. */
  readonly requestId: string;
  readonly outcome: EnqueueOutcome;
}

/**
 * A function's limits across every process sharing the store, enforced by the store in the claim
 * itself (never check-then-act). They apply to `run` claims only: expiring, recovering and
 * delivering run no handler. "Running" means leased for a run with the lease not yet lapsed, so a
 * worker that dies gives its slots back when its leases lapse.
 */
export interface FunctionLimits {
  /** At most this many running attempts of the function at once. */
  readonly concurrency?: number;
  /** At most this many attempts start in any one-second interval (of the invokers' clocks). */
  readonly perSecond?: number;
  /** At most this many running attempts per `groupKey` at once. */
  readonly groupConcurrency?: number;
  /**
   * Invocations carry a `groupKey`: serve the groups with due work round-robin (least recently
   * started first), so one group's backlog never holds up another's work.
   */
  readonly grouped?: boolean;
}

export interface ClaimSlot {
  readonly functionName: string;
  /** At most this many invocations of the function in this claim. */
  readonly limit: number;
  /** Due `Enqueued`/`Retrying` invocations older than this are returned as kind `expire`. */
  readonly maxEventAgeMs: number;
  readonly limits?: FunctionLimits;
}

/** Due work a claim left waiting because of a limit: it stays `Enqueued`, keeps its place and spends nothing. */
export interface HeldBack {
  readonly functionName: string;
  readonly reason: 'concurrency' | 'rate' | 'group';
  /** For `rate`: when the next attempt may start. */
  readonly retryAt?: number;
  /**
   * When the earliest invocation the claim passed over for a limit would be claimed as `expire`
   * (its createdAt + maxEventAgeMs + 1): the worker claims again by then even if no slot frees,
   * so held-back work still expires on time.
   */
  readonly expiresAt: number;
  /**
   * For `concurrency` and `group`: when the earliest running attempt's lease lapses unless its
   * worker renews it. A worker that died frees its slot then, and nothing signals that, so the
   * waiting worker claims again by this time (and takes the lapsed lease over).
   */
  readonly freesAt?: number;
}

/** An attempt the claiming worker ended whose settlement is not written yet. */
export interface EndedAttempt {
  readonly functionName: string;
  readonly requestId: string;
  readonly leaseToken: string;
}

export interface ClaimRequest {
  readonly now: number;
  readonly leaseMs: number;
  /** At most this many in total over all slots. */
  readonly limit: number;
  readonly slots: readonly ClaimSlot[];
  /**
   * Attempts of limited functions (Settlement.wake) this worker ended whose settlements are still
   * on the way: a store that settles later than it claims does not count them as running, so the
   * worker's freed slots are not held back by its own finished attempts (other workers still
   * count them until written: never more handlers run at once than a limit allows).
   */
  readonly ended?: readonly EndedAttempt[];
}

/**
 * - `run`: was `Enqueued`/`Retrying`; now `Running`, `attempts` + 1, `startedAt` set on the first
 *   attempt, a `Running` event appended.
 * - `expire`: was due but older than the slot's max event age; leased, otherwise unchanged.
 * - `recover`: was `Running`/`Stopping` with an expired lease (its worker is gone); re-leased,
 *   otherwise unchanged (the worker settles the lost attempt).
 * - `deliver`: a final invocation with a pending delivery; leased, otherwise unchanged.
 */
export type ClaimKind = 'run' | 'expire' | 'recover' | 'deliver';

export interface Claimed {
  readonly kind: ClaimKind;
  readonly leaseToken: string;
  /** The invocation after the claim. */
  readonly record: StoredInvocation;
}

export interface ClaimResult {
  readonly items: Claimed[];
  /** Earliest `dueAt` left among the slots' functions after this claim, if any. */
  readonly nextDueAt: number | undefined;
  /** Functions with due work left waiting by a limit (one entry per function at most). */
  readonly heldBack?: readonly HeldBack[];
}

/** A fenced update by the lease holder. Fields left undefined are unchanged. */
export interface Settlement {
  readonly requestId: string;
  readonly leaseToken: string;
  readonly status: InvocationStatus;
  /** Appended in order. */
  readonly events: readonly InvocationEvent[];
  /** Next `dueAt`; `null` = nothing more to do. With `keepLease`, the lease expiry. */
  readonly dueAt: number | null;
  /** Keep the lease (the worker continues, e.g. delivers the outcome itself). */
  readonly keepLease?: boolean;
  readonly scheduledAt?: number;
  readonly endedAt?: number;
  readonly result?: JsonValue;
  /** `null` clears it (a success after failed attempts). */
  readonly error?: InvocationError | null;
  readonly condition?: Condition;
  readonly throttles?: number;
  readonly lostAttempts?: number;
  readonly interruptedAttempts?: number;
  /** `null` clears it. */
  readonly delivery?: DeliveryState | null;
  /**
   * A limited function's running slot was freed: after writing, signal `due` for the function
   * (to every process) so workers waiting for a slot claim again.
   */
  readonly wake?: boolean;
}

/**
 * - `ok`: written.
 * - `stale`: the lease token no longer matches (the lease expired and someone else has it, or
 *   the record is gone); nothing written.
 * - `stopping`: the record is `Stopping` and the settlement would not end it (`Retrying`);
 *   nothing written: settle it as `Stopped` instead.
 */
export type SettleOutcome = 'ok' | 'stale' | 'stopping';

export interface Lease {
  readonly requestId: string;
  readonly leaseToken: string;
}

export interface HeartbeatRequest {
  readonly now: number;
  readonly leaseMs: number;
  readonly leases: readonly Lease[];
}

export interface HeartbeatResult {
  /** Leases this worker no longer holds: stop working on them, do not settle. */
  readonly lost: string[];
  /** Still held, and a stop was requested. */
  readonly stopping: string[];
}

export interface StopRequest {
  readonly requestId: string;
  readonly now: number;
  /**
   * When an `Enqueued`/`Retrying` invocation is stopped directly, owe an onFailure delivery
   * (`dueAt = now`) because its function has an onFailure destination.
   */
  readonly deliverOnFailure: boolean;
}

/**
 * - `stopped`: was `Enqueued`/`Retrying`; now `Stopped` (endedAt, error `Stopped`, event).
 * - `stopping`: was `Running` (now `Stopping`, event appended) or already `Stopping`.
 * - `final`: already finished; unchanged.
 * - `notFound`.
 */
export interface StopResult {
  readonly outcome: 'stopped' | 'stopping' | 'final' | 'notFound';
  readonly record?: StoredInvocation;
}

export interface ListQuery {
  readonly functionName?: string;
  /** Only invocations whose invocationId starts with this (the execution's name). */
  readonly invocationIdPrefix?: string;
  readonly statuses?: readonly InvocationStatus[];
  /** createdAt >= since */
  readonly since?: number;
  /** createdAt < until */
  readonly until?: number;
  readonly limit: number;
  readonly cursor?: string;
}

export interface ListPage {
  /** Newest first: ordered by createdAt descending, then requestId descending. */
  readonly items: StoredInvocation[];
  readonly nextCursor?: string;
}

export interface QueueStats {
  /** Invocations waiting to run (`Enqueued`/`Retrying`), by function. */
  readonly pending: Record<string, number>;
  /** Invocations leased for running (`Running`/`Stopping`), by function. */
  readonly running: Record<string, number>;
  /** createdAt of the oldest pending invocation, by function. */
  readonly oldestPendingAt: Record<string, number>;
}

export type LogLevel = 'info' | 'warn' | 'error';

/** One line of an invocation's execution log. */
export interface LogLine {
  /** Position in the invocation's log, from 1, assigned by the store; `after` cursors compare it. */
  readonly seq: number;
  /** Epoch ms. */
  readonly at: number;
  readonly attempt: number;
  readonly level: LogLevel;
  readonly message: string;
  readonly data?: JsonValue;
}

/** Lines to append to one invocation's log, and the bounds its log must stay within. */
export interface LogAppend {
  readonly requestId: string;
  readonly lines: readonly Omit<LogLine, 'seq'>[];
  /** Keep at most this many lines: the oldest go first. */
  readonly maxLines: number;
  /** Keep at most this many bytes of lines (each counted as `logLineBytes`): the oldest go first. */
  readonly maxBytes: number;
  /**
   * Lines the writer already dropped (older than `lines`): added to the log's dropped count, and
   * they take seq numbers (seq counts every line logged), so a reader sees the gap.
   */
  readonly dropped?: number;
}

export interface LogPage {
  /** Lines with `seq` greater than the cursor, oldest first. */
  readonly lines: LogLine[];
  /** Lines dropped so far (oldest first) to stay within the bounds. */
  readonly dropped: number;
}

/**
 * Upper bounds, in ms, of the duration histograms' buckets (queue wait, run time); one more,
 * open bucket follows the last. The same in every store and process, so counts add up.
 */
export const DURATION_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000, 900_000] as const;

export type FinishedStatus = 'Succeeded' | 'Failed' | 'Expired' | 'Stopped' | 'Invalid';

/**
 * What happened to one function in one minute, as counters that add up across processes:
 * invocations finished by status, and histograms (`DURATION_BUCKETS_MS` + 1 open bucket) of
 * each attempt's queue wait (due → start) and run time (start → outcome).
 */
export interface ActivityEntry {
  readonly functionName: string;
  /** Start of the minute, epoch ms (a multiple of 60000). */
  readonly minute: number;
  readonly finished: Readonly<Partial<Record<FinishedStatus, number>>>;
  readonly wait: readonly number[];
  readonly run: readonly number[];
}

export interface ActivityQuery {
  /** Minutes at or after this (epoch ms). */
  readonly since: number;
  /** Minutes before this. */
  readonly until: number;
  readonly functionName?: string;
}

/** Activity counters are kept this long, then dropped by retention passes. */
export const ACTIVITY_RETENTION_MS = 48 * 3600_000;

/** Retention of finished invocations (and their idempotency ids). */
export interface RetentionOptions {
  /**
   * Finished invocations older than this (by endedAt) are pruned.
   * @default 604800 (7 days)
   */
  readonly maxAgeSeconds?: number;
  /**
   * At most this many finished invocations are kept; the oldest go first.
   * @default 100000
   */
  readonly maxCount?: number;
}

export const RETENTION_DEFAULTS = { maxAgeSeconds: 604_800, maxCount: 100_000 } as const;

/**
 * A worker invoker's presence: which functions it runs, until when. Workers announce it
 * periodically and withdraw it on close; any process sharing the store can then tell work that
 * no live worker can run (a function nobody registered) from work that is merely waiting.
 */
export interface WorkerPresence {
  /** Unique per invoker. */
  readonly workerId: string;
  /** Registered function names. */
  readonly functions: readonly string[];
  /**
   * Each registered function's limits in words ("none" for none), so processes can tell when
   * they disagree. Absent in presences from versions that had no limits.
   */
  readonly limits?: Readonly<Record<string, string>>;
  readonly host: string;
  readonly pid: number;
  readonly concurrency: number;
  readonly startedAt: number;
  /** When the presence lapses unless announced again (epoch ms). */
  readonly expiresAt: number;
}

/** Work a store does on its own whose failure is reported through `onError`. */
export type StoreBackgroundTask = 'prune' | 'publish' | 'subscriber' | 'listener' | 'analyze';

/** What a store tells the invokers sharing it, in this process and (where it can) in others. */
export type StoreSignal =
  /** Work of `functionName` became due at `at` (new, retried, or delivery owed). */
  | { readonly type: 'due'; readonly functionName: string; readonly at: number }
  /** A stop was requested for a running invocation. */
  | { readonly type: 'stop'; readonly requestId: string };

/**
 * The same operations, completing synchronously: offered by stores that work in process
 * without I/O (the memory store), so the invoker skips promises and batching for them.
 */
export interface ImmediateStoreOps {
  enqueue(items: readonly NewInvocation[]): EnqueueResult[];
  claim(request: ClaimRequest): ClaimResult;
  stats(functionNames?: readonly string[]): QueueStats;
  settle(items: readonly Settlement[]): SettleOutcome[];
}

export interface Store {
  /** Short name for messages and benchmarks: `memory`, `sqlite`, `redis`, `postgres`. */
  readonly name: string;

  /** Present only on stores whose writes complete synchronously in process. */
  readonly immediate?: ImmediateStoreOps;

  /**
   * Records new invocations: `Enqueued`, attempts 0, `dueAt = scheduledAt`, one `Enqueued` event.
   * Resolves only once they are durable (as the store defines it). Idempotent on
   * `(functionName, invocationId)`, also under concurrent calls: exactly one wins `created`.
   * Emits a `due` signal.
   */
  enqueue(items: readonly NewInvocation[]): Promise<EnqueueResult[]>;

  /**
   * Atomically takes due work (`dueAt <= now`) of the slots' functions and leases each
   * (`leaseToken` new, `dueAt = now + leaseMs`): slot by slot, in order; within a slot, expired
   * leases and free due work in one order, oldest `dueAt` first (an expired lease first on a tie,
   * equal due times in insertion order), at most the slot's `limit`, and at most `limit` in all
   * (a slot gets what the slots before it left). A slot's `limits` may leave work waiting
   * (`heldBack`). No two concurrent claims return the same invocation for the same lease.
   */
  claim(request: ClaimRequest): Promise<ClaimResult>;

  /** Fenced updates, applied atomically each; results in input order. */
  settle(items: readonly Settlement[]): Promise<SettleOutcome[]>;

  /** Renews held leases to `now + leaseMs` and reports lost and stop-requested ones. */
  heartbeat(request: HeartbeatRequest): Promise<HeartbeatResult>;

  /** Stops an invocation or asks its worker to (see StopResult). Emits a `stop` signal. */
  requestStop(request: StopRequest): Promise<StopResult>;

  get(requestId: string): Promise<StoredInvocation | undefined>;

  /** The invocation holding `invocationId` for `functionName` (the idempotency index), if any. */
  findByInvocationId(functionName: string, invocationId: string): Promise<StoredInvocation | undefined>;

  /**
   * Appends log lines (seq assigned in order, continuing the invocation's log), then drops the
   * oldest lines past the item's bounds, counting them. Lines for an unknown (or pruned)
   * invocation are ignored. Not fenced: a worker that lost its lease may still log its attempt.
   */
  appendLogs(items: readonly LogAppend[]): Promise<void>;

  /**
   * Lines of an invocation's log with `seq > after`, oldest first, at most `limit`; undefined
   * when there is no such invocation. Logs are pruned with their invocation.
   */
  readLogs(requestId: string, after: number, limit: number): Promise<LogPage | undefined>;

  /** Filtered, cursor-paginated listing from an index. New work never shifts later pages. */
  list(query: ListQuery): Promise<ListPage>;

  /** Counts for metrics, for the given functions (all when omitted). */
  stats(functionNames?: readonly string[]): Promise<QueueStats>;

  /**
   * Removes finished invocations past retention (no pending delivery) and returns how many.
   * Stores also prune on their own as they go; this forces a pass.
   */
  prune(now: number): Promise<number>;

  /** Adds counters to the per-function, per-minute activity (the same minute from several processes adds up). */
  recordActivity(entries: readonly ActivityEntry[]): Promise<void>;

  /**
   * Activity of the minutes in [since, until), one entry per function and minute that had any,
   * ordered by minute then function name.
   */
  activity(query: ActivityQuery): Promise<ActivityEntry[]>;

  /**
   * Records (or renews) a worker's presence. Lapsed presences are dropped as the store goes.
   */
  announce(presence: WorkerPresence): Promise<void>;

  /** Removes a worker's presence (its invoker closed). */
  withdraw(workerId: string): Promise<void>;

  /** Presences that have not lapsed at `now`. */
  workers(now: number): Promise<WorkerPresence[]>;

  /**
   * Listens for signals; returns the unsubscribe function. A listener that throws never fails
   * the write that caused the signal: the error goes to the `onError` handlers (as `listener`).
   * Work that became due before the store's wake-up channel was in place (its own, or another
   * process's enqueue) is signalled once it is, at least for the functions this store instance
   * has claimed for: a subscriber never misses work for want of a wake-up.
   */
  subscribe(listener: (signal: StoreSignal) => void): () => void;

  /**
   * Failures of work the store does on its own (retention passes, publishing or receiving
   * wake-ups, a throwing signal listener) go to every handler as a `StoreError` (the driver's
   * error as `cause`). Nothing is printed. Returns the remover.
   */
  onError(handler: (error: StoreError, during: StoreBackgroundTask) => void): () => void;

  /**
   * Releases what the store opened. Idempotent. A client passed in by the user stays open.
   * Every later call fails with `StoreError`.
   */
  close(): Promise<void>;
}
