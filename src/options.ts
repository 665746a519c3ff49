/** The public option types, documented. Their schemas and limits are in config.ts. */
import type { Clock } from './clock.js';
import type { Store } from './stores/contract.js';
import type { DestinationsConfig } from './destinations/types.js';
import type { ZodType } from 'zod';
import type { InvocationStatus, JsonValue } from './types.js';

export interface InvokerOptions {
  /** Where invocations live: `memoryStore()`, `sqliteStore()`, `redisStore()`, `postgresStore()`. */
  readonly store: Store;
  /**
   * Handlers this invoker runs at once, over all functions. `0` makes a producer-only invoker:
   * it accepts, queries and stops invocations but never runs a handler.
   * @default 32
   */
  readonly concurrency?: number;
  /**
   * How long a claim on an invocation lasts without renewal. Running attempts renew it; if the
   * process dies, another worker takes the invocation over after this long (the lost attempt counts).
   * @default 30
   */
  readonly leaseSeconds?: number;
  /** Time source; pass `fakeClock()` in tests. @default the system clock */
  readonly clock?: Clock;
  /**
   * Longest chain of `{ function }` destinations (A's outcome invokes B, B's invokes C, ...).
   * @default 16
   */
  readonly maxDestinationHops?: number;
  /** Most invocations taken from the store in one claim. @default concurrency */
  readonly claimBatchSize?: number;
  /**
   * Keep the process alive until `close()`, as a server's socket does, so a worker process
   * waits for work instead of exiting. @default true when `concurrency > 0`
   */
  readonly keepAlive?: boolean;
}

export interface RetryBackoffOptions {
  /** Wait before the first retry, ms. @default 1000 */
  readonly initialDelayMs?: number;
  /** Each further retry waits this many times longer (1..10). @default 2 */
  readonly multiplier?: number;
  /** Longest wait between attempts, ms. @default 300000 */
  readonly maxDelayMs?: number;
  /** `'full'`: wait a uniform random time up to the computed delay; `'none'`: exactly it. @default 'full' */
  readonly jitter?: 'full' | 'none';
}

export interface FunctionOptions {
  /** Retries after a failed first attempt, 0..8. @default 3 */
  readonly maxAsyncRetryAttempts?: number;
  /** An invocation older than this (seconds, 1..604800) when due is dropped as expired. @default 86400 */
  readonly maxAsyncEventAgeInSeconds?: number;
  /** Handler deadline in seconds; `ctx.signal` aborts at it and the attempt fails with `FunctionTimeout`. @default none */
  readonly timeoutSeconds?: number;
  /** Most attempts of this function running at once in this process. @default no limit beyond the invoker's */
  readonly concurrency?: number;
  /** Backoff between attempts. */
  readonly retryBackoff?: RetryBackoffOptions;
  /** Where the outcome record goes. */
  readonly destinations?: DestinationsConfig;
  /**
   * A zod schema for the payload: `invokeAsync` and `invoke` refuse a payload it rejects
   * (`InvalidArgumentError` with the zod issues; nothing is stored), the handler gets the parsed
   * value, and a stored payload that no longer parses when due (the schema changed between
   * deploys) ends `Invalid` without running. The handler's payload type comes from it.
   */
  readonly payload?: ZodType;
  /**
   * A zod schema for the handler's result: a result it rejects fails the attempt for good
   * (`InvalidResult`, not retried: the same code would return the same thing).
   */
  readonly result?: ZodType;
}

export interface InvokeAsyncOptions {
  /** Run no earlier than this many seconds from now, 0..3600. @default 0 */
  readonly delaySeconds?: number;
  /**
   * Idempotency id: a repeat with the same id (and the same payload) returns the first call's
   * requestId and does not run again; with another payload it throws `IdempotencyConflictError`.
   */
  readonly invocationId?: string;
}

export interface ListInvocationsOptions {
  readonly functionName?: string;
  readonly status?: InvocationStatus | readonly InvocationStatus[];
  /** createdAt >= since (epoch ms) */
  readonly since?: number;
  /** createdAt < until (epoch ms) */
  readonly until?: number;
  /** Page size, 1..1000. @default 100 */
  readonly limit?: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
}

/** What a handler gets besides its payload. */
export interface InvocationContext {
  readonly requestId: string;
  readonly functionName: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Aborted when the attempt times out, is stopped, or loses its lease. */
  readonly signal: AbortSignal;
}

/** A function's handler: its payload (a JSON value) and a small context; returns a JSON value or nothing. */
export type Handler<P = JsonValue, R = JsonValue | void> = (payload: P, ctx: InvocationContext) => Promise<R> | R;
