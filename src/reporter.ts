/**
 * Turns lifecycle transitions into counters and typed events. Emission is safe: a listener
 * that throws is reported as an `error` event (or a process warning), never thrown into the
 * worker.
 */
import type { EventEmitter } from 'eventemitter3';
import type { Clock } from './clock.js';
import type { InvokerEvents } from './events.js';
import type { MetricsRegistry } from './metrics.js';
import type { Settlement, StoredInvocation } from './stores/contract.js';
import type { InvocationError } from './types.js';

export class Reporter {
  readonly #emitter: EventEmitter<InvokerEvents>;
  readonly #metrics: MetricsRegistry;
  readonly #clock: Clock;

  constructor(emitter: EventEmitter<InvokerEvents>, metrics: MetricsRegistry, clock: Clock) {
    this.#emitter = emitter;
    this.#metrics = metrics;
    this.#clock = clock;
  }

  started(record: StoredInvocation, now: number): void {
    this.#metrics.for(record.functionName).FunctionInvocationCount++;
    if (this.#emitter.listenerCount('started')) {
      this.emit('started', { requestId: record.requestId, functionName: record.functionName, at: now, attempt: record.attempts });
    }
  }

  /** `s` was written over `record` (the record as claimed; for the memory store, as it now is). */
  settled(record: StoredInvocation, s: Settlement, throttled: boolean): void {
    const counters = this.#metrics.for(record.functionName);
    if (throttled) counters.FunctionThrottledCount++;
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
          this.emit('retrying', { ...base, retryAt: s.dueAt!, error, condition: throttled ? 'FunctionResourceExhausted' : 'UnhandledInvocationError' });
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

  reportError(error: unknown, during: string): void {
    if (this.#emitter.listenerCount('error')) this.emit('error', { error, during });
    else process.emitWarning(`async-invoker: ${during} failed: ${(error as Error)?.message ?? String(error)}`);
  }

  /** Emits without letting a throwing listener break the lifecycle: it is reported instead. */
  emit<K extends keyof InvokerEvents>(name: K, payload: Parameters<InvokerEvents[K]>[0]): void {
    const listeners = this.#emitter.listeners(name) as ((p: typeof payload) => void)[];
    for (const listener of listeners) {
      try {
        listener(payload);
      } catch (error) {
        if (name === 'error') process.emitWarning(`async-invoker: an 'error' listener threw: ${(error as Error)?.message}`);
        else this.reportError(error, `listener:${String(name)}`);
      }
    }
  }
}
