/**
 * Delivers a finished invocation's record to its destination while holding its lease, and
 * writes the delivery's progress: done, retry later (5xx, network, thrown callback), or failed
 * for good (4xx, too large, hop limit, 30 minutes spent).
 */
import { setMaxListeners } from 'node:events';
import type { Clock } from '../clock.js';
import { dispatch, type DeliveryOutcome } from '../destinations/dispatcher.js';
import type { Lifecycle } from './lifecycle.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import type { ResolvedDestination } from '../destinations/resolve.js';
import { deliveryRetryAt } from '../policy.js';
import type { RegisteredFunction } from '../registry.js';
import type { SettleOutcome, Settlement, StoredInvocation } from '../stores/contract.js';

export interface DeliveriesOptions {
  readonly lifecycle: Lifecycle;
  readonly clock: Clock;
  readonly telemetry: Telemetry;
  readonly settle: (s: Settlement) => Promise<SettleOutcome>;
}

export class Deliveries {
  readonly #o: DeliveriesOptions;
  readonly #controller = new AbortController();
  readonly #lost = new Set<string>();

  constructor(options: DeliveriesOptions) {
    this.#o = options;
    // Every delivery in flight listens on this one signal: many at once is expected, not a leak.
    setMaxListeners(0, this.#controller.signal);
  }

  /** The lease of a delivery in progress went to another worker: do not write its result. */
  lost(requestId: string): void {
    this.#lost.add(requestId);
  }

  /** Aborts deliveries in progress (the invoker is closing). */
  abort(): void {
    this.#controller.abort(new Error('invoker closed'));
  }

  async deliver(record: StoredInvocation, leaseToken: string, fn: RegisteredFunction, release: () => void): Promise<void> {
    try {
      const delivery = record.delivery;
      if (!delivery || delivery.status !== 'Pending') return;
      const { target } = delivery;
      const destination = fn[target];
      const base = { requestId: record.requestId, leaseToken, status: record.status };
      if (!destination) {
        // Owed by a process that did not know the function's destinations; there are none.
        await this.#o.settle({ ...base, events: [], dueAt: null, delivery: null });
        return;
      }
      const attempt = delivery.attempts + 1;
      const span = this.#o.telemetry.delivery(record, target, describeDestination(destination), attempt);
      // The record shows the payload as every view does: redacted.
      const shown = fn.redactor ? { ...record, payload: fn.redactor(record.payload, 'payload') } : record;
      const send = () =>
        dispatch(destination, target, shown, attempt, {
          enqueueFunction: (name, payload, source) => this.#o.lifecycle.enqueueForDestination(name, payload, source),
          maxHops: this.#o.lifecycle.maxHops,
          signal: this.#controller.signal,
        });
      // Inside the delivery's span: a function destination's `send` span and a webhook's
      // traceparent continue the invocation's trace.
      const outcome: DeliveryOutcome = await (span ? span.run(send) : send());
      span?.end(outcome.ok ? undefined : { errorType: outcome.error.errorType, message: outcome.error.errorMessage });
      if (this.#lost.delete(record.requestId)) return;
      const now = this.#o.clock.now();
      const event = (detail: string) => ({ at: now, status: record.status, attempt: record.attempts, detail });
      if (outcome.ok) {
        const written = await this.#o.settle({
          ...base,
          events: [event(`${target} delivered (delivery attempt ${attempt})`)],
          dueAt: null,
          delivery: { ...delivery, attempts: attempt, status: 'Succeeded' },
        });
        if (written === 'ok') this.#o.lifecycle.delivered(record, target, attempt, now, undefined);
        return;
      }
      const retryAt = outcome.retryable ? deliveryRetryAt(attempt, delivery.since, now) : undefined;
      const message = `${outcome.error.errorType}: ${outcome.error.errorMessage}`;
      const written = await this.#o.settle({
        ...base,
        events: [
          event(
            retryAt === undefined
              ? `${target} delivery failed for good (attempt ${attempt}): ${message}`
              : `${target} delivery attempt ${attempt} failed, retrying at ${new Date(retryAt).toISOString()}: ${message}`,
          ),
        ],
        dueAt: retryAt ?? null,
        delivery: { ...delivery, attempts: attempt, status: retryAt === undefined ? 'Failed' : 'Pending' },
      });
      if (written === 'ok') {
        this.#o.lifecycle.delivered(record, target, attempt, now, { error: outcome.error, willRetry: retryAt !== undefined });
      }
    } finally {
      release();
    }
  }
}

function describeDestination(destination: ResolvedDestination): { kind: string; name: string } {
  if (destination.kind === 'function') return { kind: 'function', name: destination.functionName };
  const description = destination.destination.description ?? 'destination';
  return { kind: description.startsWith('webhook') ? 'webhook' : description.startsWith('callback') ? 'callback' : 'destination', name: description };
}
