/**
 * Turns lifecycle transitions into counters and typed events. Emission is safe: a listener
 * that throws is reported as an `error` event, never thrown into the worker. Background
 * failures are counted and emitted as `error` events; nothing is printed.
 */
import type { EventEmitter } from 'eventemitter3';
import type { Clock } from './clock.js';
import type { EnqueuedEvent, InvokerEvents, WarningEvent } from './events.js';
import type { MetricsRegistry } from './metrics.js';
import type { HeldBack, LogLine, Settlement, StoredInvocation } from './stores/contract.js';
import type { Condition, InvocationError } from './types.js';

/** How a failed attempt is reported: its condition, and whether it was throttled. */
export interface FailureReport {
  readonly throttled: boolean;
  readonly condition: Condition;
}

export class Reporter {
  readonly #emitter: EventEmitter<InvokerEvents>;
  readonly #metrics: MetricsRegistry;
  readonly #clock: Clock;
  /**
   * `enqueued` events owed for invocations this invoker is enqueueing: a worker in the same
   * process may start one before the store's answer reaches the enqueuing call, and `started`
   * must never come first. Only filled while someone listens for `enqueued`.
   */
  readonly #owedEnqueued = new Map<string, EnqueuedEvent>();

  constructor(emitter: EventEmitter<InvokerEvents>, metrics: MetricsRegistry, clock: Clock) {
    this.#emitter = emitter;
    this.#metrics = metrics;
    this.#clock = clock;
  }

  /** An invocation is about to be written; its `enqueued` event is owed until `enqueued`. */
  enqueuing(event: EnqueuedEvent): void {
    if (this.#emitter.listenerCount('enqueued')) this.#owedEnqueued.set(event.requestId, event);
  }

  /** The store answered for `requestId`: emits its `enqueued` event if it was created and is still owed. */
  enqueued(requestId: string, created: boolean): void {
    const owed = this.#owedEnqueued.get(requestId);
    if (owed === undefined) return;
    this.#owedEnqueued.delete(requestId);
    if (created) this.emit('enqueued', owed);
  }

  started(record: StoredInvocation, now: number): void {
    this.#metrics.for(record.functionName).FunctionInvocationCount++;
    if (this.#owedEnqueued.size) this.enqueued(record.requestId, true);
    if (this.#emitter.listenerCount('started')) {
      this.emit('started', { requestId: record.requestId, functionName: record.functionName, at: now, attempt: record.attempts });
    }
  }

  /**
   * `s` was written over `record` (the record as claimed; for the memory store, as it now is).
   * `failure` describes a failed attempt (its condition, also for a retry).
   */
  settled(record: StoredInvocation, s: Settlement, failure: FailureReport | undefined): void {
    const counters = this.#metrics.for(record.functionName);
    if (failure?.throttled) counters.FunctionThrottledCount++;
    if (s.status === 'Succeeded') {
      counters.FunctionSucceededCount++;
      if (this.#emitter.listenerCount('succeeded') === 0) return; // the hot path: no payload object
    }
    const at = s.events[0]?.at ?? this.#clock.now();
    const base = { requestId: record.requestId, functionName: record.functionName, at, attempt: record.attempts };
    const error = s.error ?? record.error ?? { errorType: 'Error', errorMessage: '' };
    switch (s.status) {
      case 'Succeeded':
        this.emit('succeeded', { ...base, result: s.result ?? null });
        return;
      case 'Retrying':
        counters.FunctionRetryCount++;
        if (this.#emitter.listenerCount('retrying')) {
          this.emit('retrying', { ...base, retryAt: s.dueAt!, error, condition: failure?.condition ?? 'UnhandledInvocationError' });
        }
        return;
      case 'Failed':
        counters.FunctionFailedCount++;
        this.emit('failed', { ...base, error, condition: s.condition ?? 'UnhandledInvocationError' });
        return;
      case 'Expired':
        counters.FunctionAsyncEventExpiredDropped++;
        this.emit('expired', { ...base, error, condition: 'AsyncEventExpiredDropped' });
        return;
      case 'Invalid':
        counters.FunctionInvalidCount++;
        this.emit('invalid', { ...base, error, condition: 'InvalidPayload' });
        return;
      case 'Stopped':
        counters.FunctionStoppedCount++;
        this.emit('stopped', base);
        return;
      default:
        return;
    }
  }

  /** A stop that ended work before it ran (no worker involved). */
  stoppedDirectly(requestId: string, functionName: string, at: number, attempt: number): void {
    this.#metrics.for(functionName).FunctionStoppedCount++;
    this.emit('stopped', { requestId, functionName, at, attempt });
  }

  delivered(
    record: StoredInvocation,
    target: 'onSuccess' | 'onFailure',
    deliveryAttempt: number,
    at: number,
    failure: { error: InvocationError; willRetry: boolean } | undefined,
  ): void {
    const counters = this.#metrics.for(record.functionName);
    const base = { requestId: record.requestId, functionName: record.functionName, at, attempt: record.attempts, target, deliveryAttempt };
    if (!failure) {
      counters.FunctionDestinationSucceed++;
      this.emit('destination:succeeded', base);
      return;
    }
    if (!failure.willRetry) counters.FunctionDestinationErrors++;
    this.emit('destination:failed', { ...base, ...failure });
  }

  /** A line of an execution log, for `log` listeners in the process that runs the handler. */
  logged(requestId: string, functionName: string, line: Omit<LogLine, 'seq'>): void {
    if (this.#emitter.listenerCount('log')) this.emit('log', { requestId, functionName, ...line });
  }

  /** Due work of a function was held back by one of its limits. */
  heldBack(held: HeldBack): void {
    this.#metrics.for(held.functionName).FunctionHeldBackCount++;
    if (this.#emitter.listenerCount('throttled')) {
      this.emit('throttled', { functionName: held.functionName, reason: held.reason, at: this.#clock.now(), ...(held.retryAt === undefined ? {} : { retryAt: held.retryAt }) });
    }
  }

  /** A background failure: counted, and emitted to `error` listeners if there are any. */
  reportError(error: unknown, during: string): void {
    this.#metrics.error(during);
    if (this.#emitter.listenerCount('error')) this.emit('error', { error, during });
  }

  /** Something to fix: to `warning` listeners, or to process.emitWarning when there are none. */
  warn(event: WarningEvent): void {
    if (this.#emitter.listenerCount('warning')) this.emit('warning', event);
    else process.emitWarning(event.message, { code: `ASYNC_INVOKER_${event.code.toUpperCase()}` });
  }

  /** Emits without letting a throwing listener break the lifecycle: it is reported instead. */
  emit<K extends keyof InvokerEvents>(name: K, payload: Parameters<InvokerEvents[K]>[0]): void {
    const listeners = this.#emitter.listeners(name) as ((p: typeof payload) => void)[];
    for (const listener of listeners) {
      try {
        listener(payload);
      } catch (error) {
        // An 'error' listener that throws has nowhere further to report to; it is still counted.
        if (name === 'error') this.#metrics.error('listener:error');
        else this.reportError(error, `listener:${String(name)}`);
      }
    }
  }
}
