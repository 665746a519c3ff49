/**
 * Turns what happened to an attempt into the store write (a Settlement) and classifies errors
 * per the DESIGN's table. No I/O here.
 */
import {
  FunctionTimeoutError,
  HandledInvocationError,
  NonRetryableError,
  ThrottledError,
  toInvocationError,
  type SchemaIssue,
} from '../errors.js';
import { describeIssues } from '../schemas.js';
import type { AttemptOutcome as PolicyOutcome, Decision } from '../policy.js';
import type { RegisteredFunction } from '../registry.js';
import type { DeliveryState, Settlement, StoredInvocation } from '../stores/contract.js';
import type { Condition, InvocationError, InvocationStatus, JsonValue } from '../types.js';

export interface ClassifiedError {
  readonly error: InvocationError;
  readonly outcome: PolicyOutcome;
}

/** The DESIGN's error table. */
export function classifyError(thrown: unknown): ClassifiedError {
  const error = toInvocationError(thrown);
  if (thrown instanceof NonRetryableError) {
    return { error, outcome: { kind: 'error', condition: 'HandledInvocationError', retryable: false } };
  }
  if (thrown instanceof HandledInvocationError) {
    return { error, outcome: { kind: 'error', condition: 'HandledInvocationError', retryable: true } };
  }
  if (thrown instanceof ThrottledError) return { error, outcome: { kind: 'throttled' } };
  if (thrown instanceof FunctionTimeoutError) {
    return { error: { errorType: 'FunctionTimeout', errorMessage: error.errorMessage }, outcome: unhandled };
  }
  return { error, outcome: unhandled };
}

const unhandled: PolicyOutcome = { kind: 'error', condition: 'UnhandledInvocationError', retryable: true };

/**
 * An attempt whose worker vanished (its lease expired: `WorkerLost`) or was shut down
 * (`WorkerShutdown`): system errors, retried without spending the user's retries.
 */
export function lostAttemptError(errorType: 'WorkerLost' | 'WorkerShutdown', attempt: number): ClassifiedError {
  return errorType === 'WorkerLost'
    ? {
        error: { errorType, errorMessage: `attempt ${attempt} lost: its worker stopped renewing the lease` },
        outcome: { kind: 'lost' },
      }
    : {
        error: { errorType, errorMessage: `attempt ${attempt} interrupted: the invoker was closed` },
        outcome: { kind: 'interrupted' },
      };
}

/** The condition a failed attempt is reported (and, if final, recorded) with. */
export function conditionOf(classified: ClassifiedError): Condition {
  const { outcome } = classified;
  if (outcome.kind === 'error') return outcome.condition;
  return outcome.kind === 'throttled' ? 'FunctionResourceExhausted' : 'UnhandledInvocationError';
}

function pendingDelivery(target: 'onSuccess' | 'onFailure', now: number): DeliveryState {
  return { target, status: 'Pending', attempts: 0, since: now };
}

/** A final settlement; keeps the lease when a delivery is owed so this worker can deliver at once. */
function finalSettlement(
  record: StoredInvocation,
  leaseToken: string,
  fn: RegisteredFunction | undefined,
  now: number,
  leaseMs: number,
  status: InvocationStatus,
  condition: Condition,
  detail: string | undefined,
  result: JsonValue | undefined,
  error: InvocationError | null | undefined,
): Settlement {
  const target = status === 'Succeeded' ? 'onSuccess' : 'onFailure';
  // An unregistered function (a producer stopping it) owes a delivery; the worker that runs it decides.
  const owes = fn ? fn[target] !== undefined : target === 'onFailure';
  // One object shape for every settlement (unset fields are undefined): cheaper on the hot path.
  return {
    requestId: record.requestId,
    leaseToken,
    status,
    events: [
      detail === undefined
        ? { at: now, status, attempt: record.attempts }
        : { at: now, status, attempt: record.attempts, detail },
    ],
    dueAt: owes ? now + leaseMs : null,
    keepLease: owes,
    scheduledAt: undefined,
    endedAt: now,
    result,
    error,
    condition,
    throttles: undefined,
    lostAttempts: undefined,
    interruptedAttempts: undefined,
    delivery: owes ? pendingDelivery(target, now) : undefined,
    // Set by the worker for a limited function's attempt: present here so that shape stays one.
    wake: undefined,
  };
}

export function succeeded(record: StoredInvocation, leaseToken: string, fn: RegisteredFunction, value: JsonValue, now: number, leaseMs: number): Settlement {
  return finalSettlement(record, leaseToken, fn, now, leaseMs, 'Succeeded', '', undefined, value, null);
}

/** The attempt counters a failed attempt leaves the record with. */
export interface AttemptCounters {
  readonly throttles: number;
  readonly lostAttempts: number;
  readonly interruptedAttempts: number;
}

export function failed(
  record: StoredInvocation,
  leaseToken: string,
  fn: RegisteredFunction,
  classified: ClassifiedError,
  decision: Decision,
  counters: AttemptCounters,
  now: number,
  leaseMs: number,
): Settlement {
  const { error } = classified;
  let detail = `${error.errorType}: ${error.errorMessage}`;
  if (decision.action === 'retry') {
    return {
      requestId: record.requestId,
      leaseToken,
      status: 'Retrying',
      events: [{ at: now, status: 'Retrying', attempt: record.attempts, detail }],
      dueAt: decision.retryAt,
      keepLease: false,
      scheduledAt: decision.retryAt,
      endedAt: undefined,
      result: undefined,
      error,
      condition: undefined,
      ...counters,
      delivery: undefined,
      wake: undefined,
    };
  }
  if (decision.reason === 'lost-limit') {
    detail += ` (${counters.lostAttempts} attempts lost to dead workers; maxLostAttempts is ${fn.policy.maxLostAttempts})`;
  }
  const final = finalSettlement(record, leaseToken, fn, now, leaseMs, 'Failed', decision.condition, detail, undefined, error);
  return { ...final, ...counters };
}

export function expired(record: StoredInvocation, leaseToken: string, fn: RegisteredFunction, now: number, leaseMs: number): Settlement {
  const ageSeconds = Math.round((now - record.createdAt) / 1000);
  const error = {
    errorType: 'AsyncEventExpiredDropped',
    errorMessage: `event age ${ageSeconds}s exceeded maxAsyncEventAgeInSeconds (${fn.config.maxAsyncEventAgeInSeconds}); dropped without running`,
  };
  return finalSettlement(record, leaseToken, fn, now, leaseMs, 'Expired', 'AsyncEventExpiredDropped', error.errorMessage, undefined, error);
}

/** A stored payload the function's schema no longer accepts: `Invalid`, without running. */
export function invalid(record: StoredInvocation, leaseToken: string, fn: RegisteredFunction, issues: readonly SchemaIssue[], now: number, leaseMs: number): Settlement {
  const error = { errorType: 'InvalidPayload', errorMessage: `the stored payload no longer matches the function's payload schema: ${describeIssues(issues)}` };
  return finalSettlement(record, leaseToken, fn, now, leaseMs, 'Invalid', 'InvalidPayload', error.errorMessage, undefined, error);
}

export function stopped(record: StoredInvocation, leaseToken: string, fn: RegisteredFunction | undefined, now: number, leaseMs: number): Settlement {
  return finalSettlement(record, leaseToken, fn, now, leaseMs, 'Stopped', 'Stopped', 'stopped while running; ctx.signal aborted', undefined, {
    errorType: 'Stopped',
    errorMessage: 'stopped by stopInvocation while running',
  });
}

/** The record as it is after `settlement` was written (for building its destination record). */
export function afterSettlement(record: StoredInvocation, s: Settlement): StoredInvocation {
  const { error: _previous, ...rest } = record;
  return {
    ...(s.error === null ? rest : record),
    status: s.status,
    ...(s.endedAt !== undefined ? { endedAt: s.endedAt } : {}),
    ...(s.result !== undefined ? { result: s.result } : {}),
    ...(s.error ? { error: s.error } : {}),
    ...(s.condition !== undefined ? { condition: s.condition } : {}),
    ...(s.delivery ? { delivery: s.delivery } : {}),
  };
}
