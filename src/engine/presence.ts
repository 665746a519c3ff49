/**
 * Who runs what. A worker invoker announces which functions it runs (every 20 s, lapsing after
 * 60 s without renewal, withdrawn on close); every invoker reads the presences with its queue
 * figures and warns, once per function, when invocations wait for a function that no live
 * worker runs — the HTTP-trigger web process whose worker process never registered the
 * replaying function, a typo in a function name, a worker fleet that is down.
 */
import { hostname } from 'node:os';
import type { Clock, TimerHandle } from '../clock.js';
import { newRequestId } from '../ids.js';
import type { QueueMetricsSnapshot } from '../metrics.js';
import type { WarningEvent } from '../events.js';
import { describeLimits } from '../function-info.js';
import type { FunctionLimits, Store, WorkerPresence } from '../stores/contract.js';

export const PRESENCE_INTERVAL_MS = 20_000;
export const PRESENCE_TTL_MS = 60_000;
/** Waiting work younger than this is not warned about: its workers may still be starting. */
export const UNSERVED_GRACE_MS = 30_000;

type Report = (error: unknown, during: string) => void;

/** A function as presences describe it. */
export interface AnnouncedFunction {
  readonly name: string;
  readonly limits: FunctionLimits | undefined;
}

export class PresenceAnnouncer {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #functions: () => Iterable<AnnouncedFunction>;
  readonly #concurrency: number;
  readonly #report: Report;
  readonly workerId = newRequestId();
  readonly #startedAt: number;
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(store: Store, clock: Clock, functions: () => Iterable<AnnouncedFunction>, concurrency: number, report: Report) {
    this.#store = store;
    this.#clock = clock;
    this.#functions = functions;
    this.#concurrency = concurrency;
    this.#report = report;
    this.#startedAt = clock.now();
  }

  /** Announces now (again after a registration) and every interval after. */
  announce(): void {
    if (this.#stopped) return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(() => this.announce(), PRESENCE_INTERVAL_MS);
    const now = this.#clock.now();
    const functions = [...this.#functions()];
    const presence: WorkerPresence = {
      workerId: this.workerId,
      functions: functions.map((fn) => fn.name),
      limits: Object.fromEntries(functions.map((fn) => [fn.name, describeLimits(fn.limits)])),
      host: hostname(),
      pid: process.pid,
      concurrency: this.#concurrency,
      startedAt: this.#startedAt,
      expiresAt: now + PRESENCE_TTL_MS,
    };
    this.#store.announce(presence).catch((error: unknown) => this.#report(error, 'presence'));
  }

  /** Stops announcing and withdraws the presence (failures are reported, not thrown). */
  async withdraw(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    await this.#store.withdraw(this.workerId).catch((error: unknown) => this.#report(error, 'presence'));
  }
}

/** Functions already warned about, per store, in this process: one warning each. */
const warnedByStore = new WeakMap<Store, Set<string>>();

export class UnservedWatch {
  readonly #store: Store;
  readonly #warn: (event: WarningEvent) => void;
  #workers: readonly WorkerPresence[] | undefined;

  constructor(store: Store, warn: (event: WarningEvent) => void) {
    this.#store = store;
    this.#warn = warn;
  }

  /** The latest presences read from the store. */
  update(workers: readonly WorkerPresence[]): void {
    this.#workers = workers;
  }

  /** Whether a live worker runs `functionName` (true until presences have been read once). */
  served(functionName: string): boolean {
    const workers = this.#workers;
    return workers === undefined || workers.some((w) => w.functions.includes(functionName));
  }

  /** Warns about each function whose waiting work no live worker runs, past the grace. */
  check(snapshot: QueueMetricsSnapshot): void {
    let warned = warnedByStore.get(this.#store);
    for (const [functionName, m] of Object.entries(snapshot.functions)) {
      if (m.unserved === 0 || m.oldestPendingAgeMs < UNSERVED_GRACE_MS || warned?.has(functionName)) continue;
      if (!warned) warnedByStore.set(this.#store, (warned = new Set()));
      warned.add(functionName);
      this.#warn({
        code: 'UnservedFunction',
        functionName,
        waiting: m.unserved,
        oldestPendingAgeMs: m.oldestPendingAgeMs,
        message:
          `async-invoker: ${m.unserved} invocation(s) of function ${JSON.stringify(functionName)} are waiting ` +
          `(the oldest for ${Math.round(m.oldestPendingAgeMs / 1000)} s) and no live worker runs that function: ` +
          `register it on an invoker with concurrency > 0 that shares this store` +
          ` (for the HTTP trigger, mount asyncTrigger on the worker's app too)`,
      });
    }
  }
}

/** Functions already warned about for conflicting limits, per store, in this process. */
const conflictsByStore = new WeakMap<Store, Set<string>>();

/**
 * Warns, once per function, when live workers sharing the store registered a function this
 * invoker registered with other limits than it did: each process enforces its own in its claims,
 * so they would mix silently.
 */
export class ConflictingLimitsWatch {
  readonly #store: Store;
  readonly #functions: () => Iterable<AnnouncedFunction>;
  readonly #self: () => string | undefined;
  readonly #warn: (event: WarningEvent) => void;

  /** `self`: this invoker's own presence id (undefined when it announces none), left out of the comparison. */
  constructor(store: Store, functions: () => Iterable<AnnouncedFunction>, self: () => string | undefined, warn: (event: WarningEvent) => void) {
    this.#store = store;
    this.#functions = functions;
    this.#self = self;
    this.#warn = warn;
  }

  check(workers: readonly WorkerPresence[]): void {
    const self = this.#self();
    let warned = conflictsByStore.get(this.#store);
    for (const fn of this.#functions()) {
      if (warned?.has(fn.name)) continue;
      const ours = describeLimits(fn.limits);
      const others = workers
        .filter((w) => w.workerId !== self && w.limits !== undefined && w.functions.includes(fn.name))
        .map((w) => ({ host: w.host, pid: w.pid, limits: w.limits![fn.name] ?? 'none' }));
      const differing = others.filter((w) => w.limits !== ours);
      if (differing.length === 0) continue;
      if (!warned) conflictsByStore.set(this.#store, (warned = new Set()));
      warned.add(fn.name);
      const listed = differing.map((w) => `${w.limits} (worker ${w.host}:${w.pid})`).join('; ');
      this.#warn({
        code: 'ConflictingLimits',
        functionName: fn.name,
        workers: [{ host: hostname(), pid: process.pid, limits: ours }, ...others],
        message:
          `async-invoker: function ${JSON.stringify(fn.name)} has limits ${ours} in this process (${hostname()}:${process.pid}) ` +
          `but ${listed}. Each process enforces its own limits in its claims, so they mix: register one setting in every ` +
          `process sharing the store (during a rolling deploy this passes once the old processes are gone)`,
      });
    }
  }
}
