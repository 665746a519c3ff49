/** What the worker tells the invoker: transitions to emit and count, and errors to report. */
import type { Settlement, StoredInvocation } from './stores/contract.js';
import type { InvocationError, JsonValue } from './types.js';

export interface Lifecycle {
  started(record: StoredInvocation, now: number): void;
  /** `settlement` was written over `record` (the record as claimed; for the memory store, as it now is). */
  settled(record: StoredInvocation, settlement: Settlement, throttled: boolean): void;
  delivered(
    record: StoredInvocation,
    target: 'onSuccess' | 'onFailure',
    deliveryAttempt: number,
    at: number,
    failure: { error: InvocationError; willRetry: boolean } | undefined,
  ): void;
  /** Invokes `functionName` asynchronously for a `{ function }` destination of `source`. */
  enqueueForDestination(functionName: string, payload: JsonValue, source: StoredInvocation): Promise<void>;
  readonly maxHops: number;
  reportError(error: unknown, during: string): void;
}
