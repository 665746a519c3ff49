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
/** Something went wrong outside a handler (a store call, a listener): reported, not thrown. */
export interface ErrorEvent {
  readonly error: unknown;
  /** What was being done, e.g. `claim`, `settle`, `listener:succeeded`. */
  readonly during: string;
}

export interface InvokerEvents {
  enqueued: (event: EnqueuedEvent) => void;
  started: (event: StartedEvent) => void;
  retrying: (event: RetryingEvent) => void;
  succeeded: (event: SucceededEvent) => void;
  failed: (event: FailedEvent) => void;
  expired: (event: ExpiredEvent) => void;
  stopped: (event: StoppedEvent) => void;
  'destination:succeeded': (event: DestinationEvent) => void;
  'destination:failed': (event: DestinationFailedEvent) => void;
  error: (event: ErrorEvent) => void;
}
