/**
 * The retry, backoff and expiry rules, as pure functions: the clock reading and the random
 * source are arguments, so tests can pin every delay and fast-check can explore them.
 */
import type { Condition } from './types.js';

export interface BackoffPolicy {
  readonly initialDelayMs: number;
  readonly multiplier: number;
  readonly maxDelayMs: number;
  readonly jitter: 'full' | 'none';
}

export interface RetryPolicy {
  /** Retries after the first attempt (0..8). */
  readonly maxAsyncRetryAttempts: number;
  readonly maxEventAgeMs: number;
  readonly backoff: BackoffPolicy;
  /** Attempts that may be lost to a dead worker before the invocation fails (0..100). */
  readonly maxLostAttempts: number;
}

/**
 * What an attempt ended with, as far as the policy cares. `lost` and `interrupted` are system
 * errors (Function Compute retries those apart from function errors): the worker died
 * (`WorkerLost`) or shut down (`WorkerShutdown`) mid-attempt; neither spends the user's retries.
 */
export type AttemptOutcome =
  | { readonly kind: 'error'; readonly condition: 'UnhandledInvocationError' | 'HandledInvocationError'; readonly retryable: boolean }
  | { readonly kind: 'throttled' }
  | { readonly kind: 'lost' }
  | { readonly kind: 'interrupted' };

export type FailReason = 'non-retryable' | 'attempts-exhausted' | 'event-age' | 'throttle-window' | 'lost-limit';

export type Decision =
  | { readonly action: 'retry'; readonly retryAt: number; readonly consumesAttempt: boolean }
  | { readonly action: 'fail'; readonly condition: Condition; readonly reason: FailReason };

/** Throttled retries: binary exponential from 0.5 s, each wait capped, for up to 5 hours. */
export const THROTTLE_INITIAL_DELAY_MS = 500;
export const THROTTLE_MAX_DELAY_MS = 300_000;
export const THROTTLE_WINDOW_MS = 5 * 3600_000;

/**
 * Delay before retry number `retry` (1 for the first retry): `initialDelayMs × multiplier^(retry-1)`,
 * capped at `maxDelayMs`; with full jitter, a uniform pick in [0, that].
 * `random` returns a number in [0, 1).
 */
export function nextDelay(retry: number, backoff: BackoffPolicy, random: () => number): number {
  const ceiling = backoffCeiling(retry, backoff);
  return backoff.jitter === 'full' ? Math.floor(random() * (ceiling + 1)) : ceiling;
}

/** The un-jittered delay for retry number `retry`: monotone in `retry` and capped. */
export function backoffCeiling(retry: number, backoff: BackoffPolicy): number {
  const raw = backoff.initialDelayMs * Math.pow(backoff.multiplier, Math.max(0, retry - 1));
  return Math.min(backoff.maxDelayMs, Number.isFinite(raw) ? Math.round(raw) : backoff.maxDelayMs);
}

/** Delay before throttled retry number `n` (1-based): 0.5 s, 1 s, 2 s, ... capped at 5 min. */
export function throttleDelay(n: number): number {
  return Math.min(THROTTLE_MAX_DELAY_MS, THROTTLE_INITIAL_DELAY_MS * 2 ** Math.max(0, Math.min(n - 1, 30)));
}

/** True when an invocation created at `createdAt` is older than its max event age at `now`. */
export function isExpired(createdAt: number, now: number, maxEventAgeMs: number): boolean {
  return now - createdAt > maxEventAgeMs;
}

export interface DecideInput {
  readonly outcome: AttemptOutcome;
  /** Attempts that consumed the retry budget so far, including the one that just ended. */
  readonly countedAttempts: number;
  /** Throttled attempts so far, including the one that just ended if it was throttled. */
  readonly throttles: number;
  /** Attempts lost to a dead worker so far, including the one that just ended if it was lost. @default 0 */
  readonly lostAttempts?: number;
  readonly createdAt: number;
  readonly now: number;
  readonly policy: RetryPolicy;
  readonly random: () => number;
}

/** What to do after a failed attempt: retry at a time, or fail with a condition. */
export function decide(input: DecideInput): Decision {
  const { outcome, policy, createdAt, now } = input;
  const ageLimit = createdAt + policy.maxEventAgeMs;
  if (outcome.kind === 'interrupted') {
    // Another worker can take it at once; only the event age bounds it.
    return now > ageLimit
      ? { action: 'fail', condition: 'UnhandledInvocationError', reason: 'event-age' }
      : { action: 'retry', retryAt: now, consumesAttempt: false };
  }
  if (outcome.kind === 'lost') {
    // An invocation that kills its worker every time must not take the fleet down with it.
    const lost = input.lostAttempts ?? 1;
    if (lost > policy.maxLostAttempts) return { action: 'fail', condition: 'UnhandledInvocationError', reason: 'lost-limit' };
    const retryAt = now + nextDelay(lost, policy.backoff, input.random);
    if (retryAt > ageLimit) return { action: 'fail', condition: 'UnhandledInvocationError', reason: 'event-age' };
    return { action: 'retry', retryAt, consumesAttempt: false };
  }
  if (outcome.kind === 'throttled') {
    const retryAt = now + throttleDelay(input.throttles);
    if (retryAt > Math.min(ageLimit, createdAt + THROTTLE_WINDOW_MS)) {
      return { action: 'fail', condition: 'FunctionResourceExhausted', reason: 'throttle-window' };
    }
    return { action: 'retry', retryAt, consumesAttempt: false };
  }
  if (!outcome.retryable) return { action: 'fail', condition: outcome.condition, reason: 'non-retryable' };
  if (input.countedAttempts > policy.maxAsyncRetryAttempts) {
    return { action: 'fail', condition: outcome.condition, reason: 'attempts-exhausted' };
  }
  const retryAt = now + nextDelay(input.countedAttempts, policy.backoff, input.random);
  if (retryAt > ageLimit) return { action: 'fail', condition: outcome.condition, reason: 'event-age' };
  return { action: 'retry', retryAt, consumesAttempt: true };
}

/** Destination deliveries: exponential from 500 ms, each wait capped at 5 min, for 30 min. */
export const DELIVERY_INITIAL_DELAY_MS = 500;
export const DELIVERY_MAX_DELAY_MS = 300_000;
export const DELIVERY_WINDOW_MS = 30 * 60_000;

/**
 * When to try delivery again after failed attempt number `attempts` (1-based), or undefined
 * when the 30-minute window that began at `since` is spent.
 */
export function deliveryRetryAt(attempts: number, since: number, now: number): number | undefined {
  const delay = Math.min(DELIVERY_MAX_DELAY_MS, DELIVERY_INITIAL_DELAY_MS * 2 ** Math.max(0, Math.min(attempts - 1, 30)));
  const at = now + delay;
  return at - since > DELIVERY_WINDOW_MS ? undefined : at;
}
