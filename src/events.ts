/** The invoker's typed events. Every event carries one payload object. */
import type { Condition, InvocationError, JsonValue } from './types.js';

export interface InvocationEventBase {
  readonly requestId: string;
  readonly functionName: string;
  /** Epoch ms. */
  readonly at: number;
  /** The attempt (0 before the first one). */
  readonly attempt: number;
}

export interface EnqueuedEvent extends InvocationEventBase {
  readonly scheduledAt: number;
}
export type StartedEvent = InvocationEventBase;
export interface RetryingEvent extends InvocationEventBase {
  readonly retryAt: number;
  readonly error: InvocationError;
  readonly condition: Condition;
}
export interface SucceededEvent extends InvocationEventBase {
  readonly result: JsonValue;
}
export interface FailedEvent extends InvocationEventBase {
  readonly error: InvocationError;
  readonly condition: Condition;
}
export type ExpiredEvent = FailedEvent;
/** The stored payload no longer matched the function's payload schema: ended `Invalid` without running. */
export type InvalidEvent = FailedEvent;
export type StoppedEvent = InvocationEventBase;
export interface DestinationEvent extends InvocationEventBase {
  readonly target: 'onSuccess' | 'onFailure';
  /** Delivery attempt, from 1. */
  readonly deliveryAttempt: number;
}
export interface DestinationFailedEvent extends DestinationEvent {
  readonly error: InvocationError;
  /** True when the delivery will be tried again. */
  readonly willRetry: boolean;
}
/**
 * Something went wrong outside a handler (a store call in the background, a listener):
 * reported here, never thrown and never printed. Also counted in `metrics().errors`.
 */
export interface ErrorEvent {
  readonly error: unknown;
  /**
   * What was being done: `claim`, `settle`, `heartbeat`, `presence`, `stats`, `process`,
   * `store:prune`, `store:publish`, `store:subscriber`, `store:listener`, or `listener:<event>`
   * for a listener of this invoker that threw.
   */
  readonly during: string;
}

/**
 * Something the user should fix, found in the background. Emitted once per function per
 * invoker; without a `warning` listener it goes to `process.emitWarning`.
 */
export interface WarningEvent {
  /** `UnservedFunction`: invocations wait for a function that no live worker runs. */
  readonly code: 'UnservedFunction';
  readonly functionName: string;
  readonly message: string;
  /** Invocations of the function waiting now. */
  readonly waiting: number;
  readonly oldestPendingAgeMs: number;
}

export interface InvokerEvents {
  enqueued: (event: EnqueuedEvent) => void;
  started: (event: StartedEvent) => void;
  retrying: (event: RetryingEvent) => void;
  succeeded: (event: SucceededEvent) => void;
  failed: (event: FailedEvent) => void;
  expired: (event: ExpiredEvent) => void;
  invalid: (event: InvalidEvent) => void;
  stopped: (event: StoppedEvent) => void;
  'destination:succeeded': (event: DestinationEvent) => void;
  'destination:failed': (event: DestinationFailedEvent) => void;
  error: (event: ErrorEvent) => void;
  warning: (event: WarningEvent) => void;
}
