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
 * A claim left a function's due work waiting for one of its `limits`: it stays `Enqueued`, keeps
 * its place and spends no attempt (counted as FunctionHeldBackCount).
 */
export interface ThrottledEvent {
  readonly functionName: string;
  /** Which limit: `concurrency`, `rate` (perSecond) or `group` (groupConcurrency). */
  readonly reason: 'concurrency' | 'rate' | 'group';
  readonly at: number;
  /** For `rate`: when the next attempt may start. */
  readonly retryAt?: number;
}

/** A line a handler logged with `ctx.log` (emitted in the process that runs the handler). */
export interface LogEvent {
  readonly requestId: string;
  readonly functionName: string;
  readonly attempt: number;
  /** Epoch ms. */
  readonly at: number;
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly data?: JsonValue;
}

/**
 * Something went wrong outside a handler (a store call in the background, a listener):
 * reported here, never thrown and never printed. Also counted in `metrics().errors`.
 */
export interface ErrorEvent {
  readonly error: unknown;
  /**
   * What was being done: `claim`, `settle`, `heartbeat`, `presence`, `stats`, `process`,
   * `store:prune`, `store:publish`, `store:subscriber`, `store:listener`, `store:analyze`
   * (PostgreSQL), or `listener:<event>` for a listener of this invoker that threw.
   */
  readonly during: string;
}

/**
 * Something the user should fix, found in the background. Emitted once per function per
 * invoker; without a `warning` listener it goes to `process.emitWarning`.
 */
/** A configuration problem seen across the processes sharing the store (each is warned about once per process). */
export type WarningEvent = UnservedFunctionWarning | ConflictingLimitsWarning;

/** Invocations wait for a function that no live worker runs. */
export interface UnservedFunctionWarning {
  readonly code: 'UnservedFunction';
  readonly functionName: string;
  readonly message: string;
  /** Invocations of the function waiting now. */
  readonly waiting: number;
  readonly oldestPendingAgeMs: number;
}

/**
 * Live workers registered one function with different `limits`. Each process enforces its own in
 * its claims, so the limits mix until every process runs one setting (a rolling deploy passes).
 */
export interface ConflictingLimitsWarning {
  readonly code: 'ConflictingLimits';
  readonly functionName: string;
  readonly message: string;
  /** Each live worker running the function (this one first) and its limits in words ("none" for none). */
  readonly workers: readonly { readonly host: string; readonly pid: number; readonly limits: string }[];
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
  log: (event: LogEvent) => void;
  throttled: (event: ThrottledEvent) => void;
}
