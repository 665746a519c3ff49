/**
 * The claim → run → settle loop. It claims only what it has free slots for, runs each claimed
 * batch as one p-queue task, keeps the leases of what runs, and writes outcomes in batches.
 * Which functions to claim for, and when to claim again, is `Demand`'s business.
 */
import PQueue from 'p-queue';
import { Attempt, type AttemptListener, type AttemptOutcome } from './attempt.js';
import type { Clock, TimerHandle } from '../clock.js';
import { Deadlines } from './deadlines.js';
import { Deliveries } from './deliveries.js';
import { Demand, type ClaimPlan, type InFlight } from './demand.js';
import { FunctionTimeoutError } from '../errors.js';
import { Leases, type Held } from './leases.js';
import { LogWriter, logLine } from './log-writer.js';
import { ActivityRecorder } from './activity-recorder.js';
import { isFinishedStatus } from '../stores/activity.js';
import type { SpanScope, Telemetry } from '../telemetry/telemetry.js';
import type { Lifecycle } from './lifecycle.js';
import { decide } from '../policy.js';
import type { RegisteredFunction } from '../registry.js';
import type { JsonValue } from '../types.js';
import { Scheduler } from './scheduler.js';
import { parseStoredPayload } from '../schemas.js';
import * as settle from './settlements.js';
import { Settler } from './settler.js';
import type { Claimed, ClaimResult, EndedAttempt, HeldBack, LogLevel, Settlement, SettleOutcome, Store, StoredInvocation, StoreSignal } from '../stores/contract.js';

export interface WorkerOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly functions: ReadonlyMap<string, RegisteredFunction>;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly claimBatchSize: number;
  readonly lifecycle: Lifecycle;
  readonly telemetry: Telemetry;
}

/** A claimed item being worked on: what the attempt callbacks need. */
interface Job {
  readonly item: Claimed;
  readonly fn: RegisteredFunction;
  readonly batch: Batch;
  readonly inFlight: InFlight;
  cancelDeadline: (() => void) | undefined;
  released: boolean;
  /** When the handler started (for the run-time histogram). */
  startedAt: number;
  /** The attempt's `process` span, when tracing is on. */
  span: SpanScope | undefined;
  /** The running attempt's lease, once held. */
  lease: AttemptLease | undefined;
}

/**
 * The lease of a running attempt, held in Leases (which renews it): a lost lease or a stop
 * request interrupts the attempt. Shutdown finds the running attempts here too.
 */
class AttemptLease implements Held {
  constructor(
    readonly leaseToken: string,
    readonly attempt: Attempt,
  ) {}

  onLost(): void {
    this.attempt.interrupt('lost', new Error('lease lost to another worker'));
  }

  onStop(): void {
    this.attempt.interrupt('stop', new Error('stopped by stopInvocation'));
  }
}

/** A claimed batch runs as one p-queue task, finished when its last item is. */
interface Batch {
  left: number;
  done: () => void;
}

/** Work that finished already (undefined) or will (a promise). */
type Work = Promise<void> | undefined;

/** Waits after failed claims: doubling from the first, at most the last (the store is down). */
const CLAIM_RETRY_MIN_MS = 500;
const CLAIM_RETRY_MAX_MS = 5000;

export class Worker implements AttemptListener {
  readonly #o: WorkerOptions;
  readonly #scheduler: Scheduler;
  readonly #deadlines: Deadlines;
  readonly #queue: PQueue;
  readonly #demand: Demand;
  readonly #leases: Leases;
  readonly #settler: Settler;
  readonly #deliveries: Deliveries;
  readonly #logs: LogWriter;
  readonly #activity: ActivityRecorder;
  /** See heldBackBy. */
  readonly #heldReasons = new Map<string, HeldBack['reason']>();
  /**
   * Attempts of limited functions that ended here, their settlements not written yet, by lease
   * token: claims tell the store not to count them as running (ClaimRequest.ended).
   */
  readonly #ended = new Map<string, EndedAttempt>();
  /** Settlements and deliveries started and not finished (close waits for them). */
  #writes = 0;
  #writesDrained: (() => void) | undefined;
  /** The claim being made, if any (close waits for it). */
  #claimInFlight: Promise<void> | undefined;
  /** A wake-up came while claiming: claim again when this one returns. */
  #rewake = false;
  #claimFailures = 0;
  #closing = false;
  #unsubscribe: (() => void) | undefined;

  constructor(options: WorkerOptions) {
    this.#o = options;
    const report = options.lifecycle.reportError;
    this.#scheduler = new Scheduler(options.clock, () => this.#pump());
    this.#deadlines = new Deadlines(options.clock);
    this.#queue = new PQueue({ concurrency: Math.max(1, options.concurrency) });
    this.#demand = new Demand(options.functions, options.concurrency, options.claimBatchSize);
    this.#leases = new Leases(options.store, options.clock, options.leaseMs, report);
    this.#settler = new Settler(options.store, options.clock, options.leaseMs, this.#leases, report);
    this.#logs = new LogWriter(options.store, options.clock, report);
    this.#activity = new ActivityRecorder(options.store, options.clock, report);
    this.#deliveries = new Deliveries({
      lifecycle: options.lifecycle,
      clock: options.clock,
      telemetry: options.telemetry,
      settle: (s) => this.#settler.settle(s),
    });
  }

  start(): void {
    this.#unsubscribe = this.#o.store.subscribe((signal) => this.#onSignal(signal));
    this.poke();
  }

  /** Something may be due now for any function (one was registered, or work was enqueued here). */
  poke(): void {
    this.#demand.mark();
    this.#scheduler.wakeNow();
  }

  /** Nothing running, nothing this worker could run due, nothing unwritten. */
  get idle(): boolean {
    return this.#claimInFlight === undefined && this.#demand.settled && this.#writes === 0 && this.#settler.pending === 0 && this.#logs.idle;
  }

  /** Stops claiming, waits for running handlers (interrupting them after `graceMs`), then for writes. */
  async close(graceMs: number | undefined): Promise<void> {
    this.#closing = true;
    this.#scheduler.stop();
    this.#unsubscribe?.();
    await this.#claimInFlight; // its items join the queue before we wait for it to drain
    const handlersDone = this.#queue.onIdle();
    if (graceMs === undefined) {
      await handlersDone;
    } else {
      let grace: TimerHandle | undefined;
      const graceOver = new Promise<void>((resolve) => (grace = this.#o.clock.setTimeout(resolve, graceMs)));
      await Promise.race([handlersDone, graceOver]);
      this.#o.clock.clearTimeout(grace!);
      // Past the grace: abort what still runs. Each interrupted attempt is written back for
      // another worker (WorkerShutdown); a handler that ignores its signal is no longer waited for.
      for (const held of this.#leases.snapshot()) if (held instanceof AttemptLease) held.attempt.interrupt('shutdown', new Error('invoker closed'));
      this.#deliveries.abort();
      this.#settler.giveUp();
    }
    if (this.#writes > 0) await new Promise<void>((resolve) => (this.#writesDrained = resolve));
    await this.#logs.close();
    await this.#activity.close();
    this.#deliveries.abort();
    this.#deadlines.stop();
    this.#leases.stop();
  }

  #onSignal(signal: StoreSignal): void {
    if (signal.type === 'stop') {
      this.#leases.get(signal.requestId)?.onStop?.();
      return;
    }
    if (!this.#o.functions.has(signal.functionName)) return;
    if (signal.at <= this.#o.clock.now()) {
      this.#demand.mark(signal.functionName);
      this.#scheduler.wakeNow();
    } else {
      this.#scheduler.wakeAt(signal.at);
    }
  }

  #pump(): void {
    if (this.#closing) return;
    if (this.#claimInFlight) {
      // A wake-up (timer or signal) during a claim may be for work that claim did not see.
      this.#rewake = true;
      return;
    }
    this.#rewake = false;
    const now = this.#o.clock.now();
    const plan = this.#demand.plan(now);
    // The scheduler keeps one timer, the earliest: a hold ending later is armed again at each wake.
    this.#scheduler.wakeAt(this.#demand.holdsEndAt);
    // Full, or every function at its cap or held back: a slot freeing up, a signal or a timer claims again.
    if (!plan) return;
    const request = this.#ended.size
      ? { now, leaseMs: this.#o.leaseMs, limit: plan.limit, slots: plan.slots, ended: [...this.#ended.values()] }
      : { now, leaseMs: this.#o.leaseMs, limit: plan.limit, slots: plan.slots };
    const immediate = this.#o.store.immediate;
    if (immediate) {
      let claimed: ClaimResult;
      try {
        claimed = immediate.claim(request);
      } catch (error) {
        this.#claimFailed(plan, error);
        return;
      }
      this.#claimed(plan, claimed);
      return;
    }
    this.#claimInFlight = this.#o.store.claim(request).then(
      (claimed) => {
        this.#claimInFlight = undefined;
        this.#claimed(plan, claimed);
      },
      (error: unknown) => {
        this.#claimInFlight = undefined;
        this.#claimFailed(plan, error);
      },
    );
  }

  #claimed(plan: ClaimPlan, claimed: ClaimResult): void {
    this.#claimFailures = 0;
    const { items } = claimed;
    this.#demand.claimed(plan, items);
    // Run what was claimed even while closing (close waits for it): leaving it would cost each
    // invocation an attempt and a lease timeout.
    if (items.length) this.#startBatch(items);
    if (this.#closing) return;
    if (claimed.nextDueAt !== undefined) this.#scheduler.wakeAt(claimed.nextDueAt);
    this.#noteHeldBack(plan, claimed.heldBack);
    if (claimed.heldBack) this.#heldBack(claimed.heldBack);
    if (this.#rewake || this.#demand.wanted(this.#o.clock.now())) this.#wake();
  }

  /**
   * A limit left due work waiting: claim for it again when its rate window opens, a running
   * attempt's lease would lapse (its worker may have died, and nothing signals that) or held-back
   * work would expire (one timer), or when a slot frees here or a wake-up says one freed
   * elsewhere; never in a loop meanwhile.
   */
  #heldBack(held: readonly HeldBack[]): void {
    for (const h of held) {
      this.#o.lifecycle.heldBack(h);
      const until = Math.min(h.retryAt ?? Infinity, h.freesAt ?? Infinity, h.expiresAt);
      this.#demand.hold(h.functionName, until, h.reason !== 'rate');
      if (until !== Infinity) this.#scheduler.wakeAt(until);
    }
  }

  /** Which limit held back each function's due work at its latest claim (none: not held back). */
  #noteHeldBack(plan: ClaimPlan, held: readonly HeldBack[] | undefined): void {
    for (const slot of plan.slots) this.#heldReasons.delete(slot.functionName);
    if (held) for (const h of held) this.#heldReasons.set(h.functionName, h.reason);
  }

  /** Why this worker's latest claim for `functionName` left due work waiting, if it did. */
  heldBackBy(functionName: string): HeldBack['reason'] | undefined {
    return this.#heldReasons.get(functionName);
  }

  /** The store failed: report it and try again later, backing off while it keeps failing. */
  #claimFailed(plan: ClaimPlan, error: unknown): void {
    this.#demand.claimFailed(plan);
    this.#o.lifecycle.reportError(error, 'claim');
    const delay = Math.min(CLAIM_RETRY_MAX_MS, CLAIM_RETRY_MIN_MS * 2 ** this.#claimFailures++);
    this.#scheduler.wakeAt(this.#o.clock.now() + delay);
  }

  /** Claim again soon: within this turn for an in-process store, on the next turn otherwise. */
  #wake(): void {
    if (this.#o.store.immediate) this.#scheduler.wakeSoon();
    else this.#scheduler.wakeNow();
  }

  #startBatch(items: Claimed[]): void {
    // The slots are taken now, not when the queue gets to the batch: a claim in between must
    // see them taken, or a function could run more than its cap.
    const slots = items.map((item) => {
      const inFlight = this.#demand.counter(item.record.functionName);
      this.#demand.start(inFlight);
      return inFlight;
    });
    void this.#queue.add(
      () =>
        new Promise<void>((done) => {
          const batch: Batch = { left: items.length, done };
          items.forEach((item, i) => this.#process(item, batch, slots[i]!));
        }),
    );
  }

  #process(item: Claimed, batch: Batch, inFlight: InFlight): void {
    const fn = this.#o.functions.get(item.record.functionName)!;
    const job: Job = { item, fn, batch, inFlight, cancelDeadline: undefined, released: false, startedAt: 0, span: undefined, lease: undefined };
    try {
      const now = this.#o.clock.now();
      switch (item.kind) {
        case 'run':
          this.#run(job, now);
          return;
        case 'expire':
          this.#write(this.#settleThen(item, settle.expired(item.record, item.leaseToken, fn, now, this.#o.leaseMs), fn), job);
          return;
        case 'recover':
          this.#write(
            item.record.status === 'Stopping'
              ? this.#settleThen(item, settle.stopped(item.record, item.leaseToken, fn, now, this.#o.leaseMs), fn)
              : this.#fail(item, fn, settle.lostAttemptError('WorkerLost', item.record.attempts)),
            job,
          );
          return;
        case 'deliver':
          this.#write(this.#deliveries.deliver(item.record, item.leaseToken, fn, this.#hold(item.record.requestId, item.leaseToken)), job);
          return;
      }
    } catch (error) {
      // A bug or a store that throws synchronously must not leak the slot (or stall the batch):
      // the lease lapses (no longer renewed here) and the invocation is recovered elsewhere.
      this.#o.lifecycle.reportError(error, 'process');
      if (job.lease) this.#leases.release(item.record.requestId, job.lease);
      this.#release(job);
    }
  }

  /** Frees the job's slot (once); the batch's p-queue task ends with its last job. */
  #release(job: Job): void {
    if (job.released) return;
    job.released = true;
    this.#demand.finish(job.inFlight);
    if (--job.batch.left === 0) job.batch.done();
    if (!this.#closing && this.#demand.wanted(this.#o.clock.now())) this.#wake();
  }

  #run(job: Job, now: number): void {
    const { record, leaseToken } = job.item;
    const parsed = parseStoredPayload(job.fn, record.payload);
    if (!parsed.ok) {
      // The schema changed since it was enqueued: it can never run as it is.
      this.#write(this.#settleThen(job.item, settle.invalid(record, leaseToken, job.fn, parsed.issues, now, this.#o.leaseMs), job.fn), job);
      return;
    }
    this.#o.lifecycle.started(record, now);
    job.startedAt = now;
    // scheduledAt is when this attempt became due (the enqueue's delay, or the retry's time).
    this.#activity.started(job.fn.name, now, record.scheduledAt);
    this.#o.telemetry.histogram('queue_wait', Math.max(0, now - record.scheduledAt), job.fn.name);
    job.span = this.#o.telemetry.process(record);
    const attempt = new Attempt(record.requestId, job.fn.name, record.attempts, this, job);
    job.lease = new AttemptLease(leaseToken, attempt);
    this.#leases.hold(record.requestId, job.lease);
    if (job.fn.timeoutMs !== undefined) {
      job.cancelDeadline = this.#deadlines.add(now + job.fn.timeoutMs, () =>
        attempt.interrupt('timeout', new FunctionTimeoutError(job.fn.name, job.fn.config.timeoutSeconds!)),
      );
    }
    attempt.run(job.fn, parsed.value, job.span);
  }

  /** AttemptListener: the outcome is known (the handler may still be running if interrupted). */
  attemptDecided(attempt: Attempt, outcome: AttemptOutcome): void {
    const job = attempt.tag as Job;
    job.cancelDeadline?.();
    this.#leases.release(attempt.requestId);
    this.#logs.ended(attempt.requestId);
    const now = this.#o.clock.now();
    this.#activity.ran(job.fn.name, now, job.startedAt);
    this.#o.telemetry.histogram('run_time', Math.max(0, now - job.startedAt), job.fn.name, outcome.type === 'result' ? 'success' : 'error');
    job.span?.end(spanFailure(outcome));
    this.#write(this.#settleAttempt(job.item, job.fn, outcome));
  }

  /** AttemptListener: a line of the execution log (also after the outcome: a late handler may still log). */
  attemptLogged(attempt: Attempt, level: LogLevel, message: unknown, data: unknown): void {
    const { fn } = attempt.tag as Job;
    const line = redactLine(logLine(this.#o.clock.now(), attempt.attempt, level, message, data, fn.config.logs), fn);
    this.#logs.write(attempt.requestId, line, fn.config.logs);
    this.#o.lifecycle.logged(attempt.requestId, fn.name, line);
  }

  /** AttemptListener: the handler returned; its slot is free. */
  handlerReturned(attempt: Attempt): void {
    this.#release(attempt.tag as Job);
  }

  /** Tracks a write so close() can wait for it; errors are reported, never thrown. */
  #write(work: Work, job?: Job): void {
    if (work === undefined) {
      if (job) this.#release(job);
      return;
    }
    this.#writes++;
    work.then(
      () => this.#wrote(job),
      (error: unknown) => {
        this.#o.lifecycle.reportError(error, 'settle');
        this.#wrote(job);
      },
    );
  }

  #wrote(job: Job | undefined): void {
    if (job) this.#release(job);
    if (--this.#writes === 0 && this.#writesDrained) {
      this.#writesDrained();
      this.#writesDrained = undefined;
    }
  }

  #settleAttempt(item: Claimed, fn: RegisteredFunction, outcome: AttemptOutcome): Work {
    const now = this.#o.clock.now();
    if (outcome.type === 'result') {
      // Redacted before it is stored (and so wherever it is shown).
      const result = fn.redactor ? fn.redactor(outcome.value, 'result') : outcome.value;
      return this.#settleThen(item, settle.succeeded(item.record, item.leaseToken, fn, result, now, this.#o.leaseMs), fn);
    }
    if (outcome.type === 'error') return this.#fail(item, fn, settle.classifyError(outcome.error));
    switch (outcome.interruption) {
      case 'lost':
        return; // the new lease holder settles it
      case 'stop':
        return this.#settleThen(item, settle.stopped(item.record, item.leaseToken, fn, now, this.#o.leaseMs), fn);
      case 'shutdown':
        return this.#fail(item, fn, settle.lostAttemptError('WorkerShutdown', item.record.attempts));
      case 'timeout':
        return this.#fail(item, fn, settle.classifyError(outcome.error));
    }
  }

  #fail(item: Claimed, fn: RegisteredFunction, classified: settle.ClassifiedError): Work {
    const { record } = item;
    const now = this.#o.clock.now();
    const kind = classified.outcome.kind;
    const counters: settle.AttemptCounters = {
      throttles: record.throttles + (kind === 'throttled' ? 1 : 0),
      lostAttempts: record.lostAttempts + (kind === 'lost' ? 1 : 0),
      interruptedAttempts: record.interruptedAttempts + (kind === 'interrupted' ? 1 : 0),
    };
    const decision = decide({
      outcome: classified.outcome,
      countedAttempts: record.attempts - counters.throttles - counters.lostAttempts - counters.interruptedAttempts,
      throttles: counters.throttles,
      lostAttempts: counters.lostAttempts,
      createdAt: record.createdAt,
      now,
      policy: fn.policy,
      random: Math.random,
    });
    const s = settle.failed(record, item.leaseToken, fn, classified, decision, counters, now, this.#o.leaseMs);
    return this.#settleThen(item, s, fn, classified);
  }

  /**
   * Writes `s`, then tells the lifecycle and, if a delivery is owed, delivers it. Synchronous
   * with a store that settles in process (no promise, no batch), otherwise through the settler.
   */
  #settleThen(item: Claimed, settlement: Settlement, fn: RegisteredFunction, failure?: settle.ClassifiedError): Work {
    // An attempt (not a delivery) of a function with a concurrency limit frees a slot others may wait for.
    const s = fn.wakesOthers && item.kind === 'run' && !settlement.keepLease ? { ...settlement, wake: true } : settlement;
    const immediate = this.#o.store.immediate;
    if (immediate) return this.#afterSettle(item, s, fn, failure, immediate.settle([s])[0]!);
    const written = this.#settler.settle(s);
    if (s.wake) this.#endedUntil(written, { functionName: fn.name, requestId: s.requestId, leaseToken: s.leaseToken });
    return written.then((outcome) => this.#afterSettle(item, s, fn, failure, outcome));
  }

  /** Claims name `attempt` as ended (ClaimRequest.ended) until `written` settles. */
  #endedUntil(written: Promise<unknown>, attempt: EndedAttempt): void {
    this.#ended.set(attempt.leaseToken, attempt);
    const done = (): void => void this.#ended.delete(attempt.leaseToken);
    written.then(done, done);
  }

  #afterSettle(item: Claimed, s: Settlement, fn: RegisteredFunction, failure: settle.ClassifiedError | undefined, outcome: SettleOutcome): Work {
    if (outcome === 'stopping') {
      // A stop arrived while the attempt ran: end it as stopped instead of retrying.
      const stop = settle.stopped(item.record, item.leaseToken, fn, this.#o.clock.now(), this.#o.leaseMs);
      return this.#settleThen(item, stop, fn);
    }
    if (outcome === 'stale') return;
    if (isFinishedStatus(s.status)) {
      const endedAt = s.endedAt ?? this.#o.clock.now();
      this.#activity.finished(fn.name, endedAt, s.status);
      this.#o.telemetry.histogram('end_to_end', Math.max(0, endedAt - item.record.createdAt), fn.name, s.status);
    }
    this.#o.lifecycle.settled(item.record, s, failure && { throttled: failure.outcome.kind === 'throttled', condition: settle.conditionOf(failure) });
    if (s.keepLease && s.delivery) {
      const after = settle.afterSettlement(item.record, s);
      return this.#deliveries.deliver(after, item.leaseToken, fn, this.#hold(after.requestId, item.leaseToken));
    }
  }

  /** Holds a delivery's lease (renewed by the heartbeat) until the returned release is called. */
  #hold(requestId: string, leaseToken: string): () => void {
    this.#leases.hold(requestId, { leaseToken, onLost: () => this.#deliveries.lost(requestId) });
    return () => this.#leases.release(requestId);
  }
}

/** A log line with its data redacted before it is stored. */
function redactLine<L extends { readonly data?: JsonValue }>(line: L, fn: RegisteredFunction): L {
  return fn.redactor && line.data !== undefined ? { ...line, data: fn.redactor(line.data, 'log') } : line;
}

/** What a failed attempt's span records: its error type, message and condition. */
function spanFailure(outcome: AttemptOutcome): { errorType: string; message: string; condition: string } | undefined {
  if (outcome.type === 'result') return undefined;
  if (outcome.type === 'interrupted') {
    return { errorType: outcome.interruption === 'timeout' ? 'FunctionTimeout' : outcome.interruption, message: outcome.error.message, condition: 'UnhandledInvocationError' };
  }
  const classified = settle.classifyError(outcome.error);
  return { errorType: classified.error.errorType, message: classified.error.errorMessage, condition: settle.conditionOf(classified) };
}

export type { StoredInvocation };
