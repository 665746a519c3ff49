/**
 * The claim → run → settle loop. It claims only what it has free slots for, runs each claimed
 * batch as one p-queue task, renews leases of what runs, and writes outcomes in batches.
 */
import PQueue from 'p-queue';
import { Attempt, type AttemptListener, type AttemptOutcome } from './attempt.js';
import { Batcher } from './batcher.js';
import type { Clock, TimerHandle } from '../clock.js';
import { Deadlines } from './deadlines.js';
import { Deliveries } from './deliveries.js';
import { FunctionTimeoutError } from '../errors.js';
import type { Lifecycle } from './lifecycle.js';
import { decide } from '../policy.js';
import type { RegisteredFunction } from '../registry.js';
import { Scheduler } from './scheduler.js';
import * as settle from './settlements.js';
import type { Claimed, ClaimResult, ClaimSlot, Settlement, SettleOutcome, Store, StoredInvocation, StoreSignal } from '../stores/contract.js';

export interface WorkerOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly functions: ReadonlyMap<string, RegisteredFunction>;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly claimBatchSize: number;
  readonly lifecycle: Lifecycle;
}

/** A claimed item being worked on: what the heartbeat and the attempt callbacks need. */
interface Job {
  readonly item: Claimed;
  readonly fn: RegisteredFunction;
  readonly batch: Batch;
  readonly inFlight: { n: number };
  cancelDeadline: (() => void) | undefined;
}

/** A claimed batch runs as one p-queue task, finished when its last item is. */
interface Batch {
  left: number;
  done: () => void;
}

/** Work that finished already (undefined) or will (a promise). */
type Work = Promise<void> | undefined;

interface Held {
  readonly leaseToken: string;
  /** Called when the lease is gone (another worker has it). */
  readonly onLost: () => void;
  /** Called when a stop was requested. */
  readonly onStop?: () => void;
}

/** A running attempt's lease: lost or stopped means interrupting the attempt. */
class HeldAttempt implements Held {
  constructor(
    readonly attempt: Attempt,
    readonly leaseToken: string,
  ) {}
  onLost(): void {
    this.attempt.interrupt('lost', new Error('lease lost to another worker'));
  }
  onStop(): void {
    this.attempt.interrupt('stop', new Error('stopped by stopInvocation'));
  }
}

export class Worker implements AttemptListener {
  readonly #o: WorkerOptions;
  readonly #scheduler: Scheduler;
  readonly #deadlines: Deadlines;
  readonly #queue: PQueue;
  readonly #settler: Batcher<Settlement, SettleOutcome>;
  readonly #deliveries: Deliveries;
  /** Leases this worker holds, by requestId: renewed by the heartbeat. */
  readonly #held = new Map<string, Held>();
  /** Attempts in flight per function, as a mutable box so the hot path looks it up once. */
  readonly #fnInFlight = new Map<string, { n: number }>();
  /** Settlements and deliveries started and not finished (close waits for them). */
  #writes = 0;
  #writesDrained: (() => void) | undefined;
  #inFlight = 0;
  /** The claim being made, if any (close waits for it). */
  #claimInFlight: Promise<void> | undefined;
  /** A wake-up came while claiming: claim again when this one returns. */
  #rewake = false;
  /** The last claim was full: more is probably due. */
  #backlog = true;
  /** Bumped by every due signal, to notice one that arrived during a claim. */
  #signals = 0;
  #heartbeat: TimerHandle | undefined;
  #slotRotation = 0;
  #closing = false;
  #unsubscribe: (() => void) | undefined;

  constructor(options: WorkerOptions) {
    this.#o = options;
    this.#scheduler = new Scheduler(options.clock, () => this.#pump());
    this.#deadlines = new Deadlines(options.clock);
    this.#queue = new PQueue({ concurrency: Math.max(1, options.concurrency) });
    this.#settler = new Batcher((items) => options.store.settle(items));
    this.#deliveries = new Deliveries({
      lifecycle: options.lifecycle,
      clock: options.clock,
      settle: (s) => this.#settler.add(s),
    });
  }

  start(): void {
    this.#unsubscribe = this.#o.store.subscribe((signal) => this.#onSignal(signal));
    this.#scheduler.wakeNow();
  }

  /** Something may be due now (a function was registered, work was enqueued here). */
  poke(): void {
    this.#signals++;
    this.#backlog = true;
    this.#scheduler.wakeNow();
  }

  get idle(): boolean {
    return this.#claimInFlight === undefined && this.#inFlight === 0 && this.#writes === 0 && this.#settler.pending === 0 && !this.#backlog;
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
      for (const held of [...this.#held.values()]) {
        if (held instanceof HeldAttempt) held.attempt.interrupt('shutdown', new Error('invoker closed'));
      }
      this.#deliveries.abort();
    }
    if (this.#writes > 0) await new Promise<void>((resolve) => (this.#writesDrained = resolve));
    this.#deliveries.abort();
    this.#deadlines.stop();
    if (this.#heartbeat !== undefined) this.#o.clock.clearTimeout(this.#heartbeat);
  }

  #onSignal(signal: StoreSignal): void {
    if (signal.type === 'stop') {
      this.#held.get(signal.requestId)?.onStop?.();
      return;
    }
    if (!this.#o.functions.has(signal.functionName)) return;
    if (signal.at <= this.#o.clock.now()) {
      this.#signals++;
      this.#backlog = true;
      this.#scheduler.wakeNow();
    } else {
      this.#scheduler.wakeAt(signal.at);
    }
  }

  #slots(): { slots: ClaimSlot[]; limit: number } {
    const free = Math.min(this.#o.concurrency - this.#inFlight, this.#o.claimBatchSize);
    const slots: ClaimSlot[] = [];
    if (free <= 0) return { slots, limit: 0 };
    for (const fn of this.#o.functions.values()) {
      const fnFree = fn.concurrency === undefined ? free : Math.min(free, fn.concurrency - (this.#fnInFlight.get(fn.name)?.n ?? 0));
      if (fnFree > 0) slots.push({ functionName: fn.name, limit: fnFree, maxEventAgeMs: fn.maxEventAgeMs });
    }
    // Rotate so one busy function cannot starve the others of a partly free worker.
    if (slots.length > 1) {
      const k = this.#slotRotation++ % slots.length;
      slots.push(...slots.splice(0, k));
    }
    return { slots, limit: free };
  }

  #pump(): void {
    if (this.#closing) return;
    if (this.#claimInFlight) {
      // A wake-up (timer or signal) during a claim may be for work that claim did not see.
      this.#rewake = true;
      return;
    }
    this.#rewake = false;
    const { slots, limit } = this.#slots();
    if (slots.length === 0) {
      // Full: a wake-up now (new work, an expiring lease) must not be lost; claim when a slot frees.
      this.#backlog = true;
      return;
    }
    const request = { now: this.#o.clock.now(), leaseMs: this.#o.leaseMs, limit, slots };
    const signalsBefore = this.#signals;
    const immediate = this.#o.store.immediate;
    if (immediate) {
      this.#claimed(immediate.claim(request), limit, slots, signalsBefore);
      return;
    }
    this.#claimInFlight = this.#o.store.claim(request).then(
      (claimed) => {
        this.#claimInFlight = undefined;
        this.#claimed(claimed, limit, slots, signalsBefore);
      },
      (error: unknown) => {
        this.#claimInFlight = undefined;
        this.#o.lifecycle.reportError(error, 'claim');
        this.#scheduler.wakeAt(this.#o.clock.now() + 1000);
      },
    );
  }

  #claimed(claimed: ClaimResult, limit: number, slots: ClaimSlot[], signalsBefore: number): void {
    const { items } = claimed;
    // Run what was claimed even while closing (close waits for it): leaving it would cost each
    // invocation an attempt and a lease timeout.
    if (items.length) this.#startBatch(items);
    if (this.#closing) return;
    const full = items.length >= limit || items.length >= slots.reduce((n, s) => n + s.limit, 0);
    this.#backlog = full || this.#signals !== signalsBefore || this.#rewake;
    if (this.#backlog) {
      if (this.#o.concurrency - this.#inFlight > 0) this.#wake();
    } else if (claimed.nextDueAt !== undefined) {
      this.#scheduler.wakeAt(claimed.nextDueAt);
    }
  }

  /** Claim again soon: within this turn for an in-process store, on the next turn otherwise. */
  #wake(): void {
    if (this.#o.store.immediate) this.#scheduler.wakeSoon();
    else this.#scheduler.wakeNow();
  }

  #startBatch(items: Claimed[]): void {
    this.#inFlight += items.length;
    void this.#queue.add(
      () =>
        new Promise<void>((done) => {
          const batch: Batch = { left: items.length, done };
          for (const item of items) this.#process(item, batch);
        }),
    );
  }

  #process(item: Claimed, batch: Batch): void {
    const fn = this.#o.functions.get(item.record.functionName)!;
    let inFlight = this.#fnInFlight.get(fn.name);
    if (!inFlight) this.#fnInFlight.set(fn.name, (inFlight = { n: 0 }));
    inFlight.n++;
    const job: Job = { item, fn, batch, inFlight, cancelDeadline: undefined };
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
  }

  /** Frees the job's slot; the batch's p-queue task ends with its last job. */
  #release(job: Job): void {
    this.#inFlight--;
    job.inFlight.n--;
    if (--job.batch.left === 0) job.batch.done();
    if (this.#backlog && !this.#closing) this.#wake();
  }

  #run(job: Job, now: number): void {
    const { record, leaseToken } = job.item;
    this.#o.lifecycle.started(record, now);
    const attempt = new Attempt(record.requestId, job.fn.name, record.attempts, this, job);
    this.#held.set(record.requestId, new HeldAttempt(attempt, leaseToken));
    this.#armHeartbeat();
    if (job.fn.timeoutMs !== undefined) {
      job.cancelDeadline = this.#deadlines.add(now + job.fn.timeoutMs, () =>
        attempt.interrupt('timeout', new FunctionTimeoutError(job.fn.name, job.fn.config.timeoutSeconds!)),
      );
    }
    attempt.run(job.fn, record.payload);
  }

  /** AttemptListener: the outcome is known (the handler may still be running if interrupted). */
  attemptDecided(attempt: Attempt, outcome: AttemptOutcome): void {
    const job = attempt.tag as Job;
    job.cancelDeadline?.();
    this.#held.delete(attempt.requestId);
    this.#write(this.#settleAttempt(job.item, job.fn, outcome));
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
      return this.#settleThen(item, settle.succeeded(item.record, item.leaseToken, fn, outcome.value, now, this.#o.leaseMs), fn);
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
    const throttled = classified.outcome.kind === 'throttled';
    const throttles = record.throttles + (throttled ? 1 : 0);
    const decision = decide({
      outcome: classified.outcome,
      countedAttempts: record.attempts - throttles,
      throttles,
      createdAt: record.createdAt,
      now,
      policy: fn.policy,
      random: Math.random,
    });
    const s = settle.failed(record, item.leaseToken, fn, classified, decision, throttles, now, this.#o.leaseMs);
    return this.#settleThen(item, s, fn, throttled);
  }

  /**
   * Writes `s`, then tells the lifecycle and, if a delivery is owed, delivers it. Synchronous
   * with a store that settles in process (no promise, no batch), otherwise through the batcher.
   */
  #settleThen(item: Claimed, s: Settlement, fn: RegisteredFunction, throttled = false): Work {
    const immediate = this.#o.store.immediate;
    if (immediate) return this.#afterSettle(item, s, fn, throttled, immediate.settle([s])[0]!);
    return this.#settler.add(s).then((outcome) => this.#afterSettle(item, s, fn, throttled, outcome));
  }

  #afterSettle(item: Claimed, s: Settlement, fn: RegisteredFunction, throttled: boolean, outcome: SettleOutcome): Work {
    if (outcome === 'stopping') {
      // A stop arrived while the attempt ran: end it as stopped instead of retrying.
      const stop = settle.stopped(item.record, item.leaseToken, fn, this.#o.clock.now(), this.#o.leaseMs);
      return this.#settleThen(item, stop, fn);
    }
    if (outcome === 'stale') return;
    this.#o.lifecycle.settled(item.record, s, throttled);
    if (s.keepLease && s.delivery) {
      const after = settle.afterSettlement(item.record, s);
      return this.#deliveries.deliver(after, item.leaseToken, fn, this.#hold(after.requestId, item.leaseToken));
    }
  }

  /** Holds a lease (renewed by the heartbeat) until the returned release is called. */
  #hold(requestId: string, leaseToken: string): () => void {
    this.#held.set(requestId, { leaseToken, onLost: () => this.#deliveries.lost(requestId) });
    this.#armHeartbeat();
    return () => this.#held.delete(requestId);
  }

  /** Renews held leases and learns of stops: at most every second while anything is held. */
  #armHeartbeat(): void {
    if (this.#heartbeat !== undefined) return;
    const interval = Math.min(1000, this.#o.leaseMs / 3);
    this.#heartbeat = this.#o.clock.setTimeout(() => void this.#beat(), interval);
  }

  async #beat(): Promise<void> {
    this.#heartbeat = undefined;
    if (this.#held.size === 0) return;
    const leases = [...this.#held].map(([requestId, h]) => ({ requestId, leaseToken: h.leaseToken }));
    try {
      const result = await this.#o.store.heartbeat({ now: this.#o.clock.now(), leaseMs: this.#o.leaseMs, leases });
      for (const id of result.lost) this.#held.get(id)?.onLost();
      for (const id of result.stopping) this.#held.get(id)?.onStop?.();
    } catch (error) {
      this.#o.lifecycle.reportError(error, 'heartbeat');
    }
    if (this.#held.size > 0 && !(this.#closing && this.#queue.size + this.#queue.pending === 0)) this.#armHeartbeat();
  }
}

export type { StoredInvocation };
