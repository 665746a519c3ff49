/** The public option types, documented. Their schemas and limits are in config.ts. */
import type { Clock } from './clock.js';
import type { Store } from './stores/contract.js';
import type { DestinationsConfig } from './destinations/types.js';
import type { ZodType } from 'zod';
import type { Redactor } from './redact.js';
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
   * process dies, another worker takes the invocation over after this long; the lost attempt is
   * retried without spending `maxAsyncRetryAttempts` (see `maxLostAttempts`).
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
  /**
   * OpenTelemetry spans and metrics, through `@opentelemetry/api` when it is installed and a
   * tracer (meter) provider is registered; nothing to turn on. `false` turns them off.
   * @default true
   */
  readonly tracing?: boolean;
  /**
   * Largest payload (and result) accepted, in bytes of JSON: `invokeAsync` and `invoke` refuse a
   * larger one with `PayloadTooLargeError` (the HTTP trigger answers 413). A function's own
   * `maxPayloadBytes` overrides it. 1024..8388608. @default 131072 (128 KB, as Function Compute)
   */
  readonly maxPayloadBytes?: number;
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
  /**
   * Attempts lost to a worker that died (`WorkerLost`) are retried without spending
   * `maxAsyncRetryAttempts`; past this many lost attempts (0..100) the invocation fails: it
   * probably kills its worker every time. @default 3
   */
  readonly maxLostAttempts?: number;
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
  /**
   * Bounds of each invocation's execution log (`ctx.log`): past them the oldest lines go, and
   * one marker line says how many. @default { maxLines: 1000, maxBytes: 65536 }
   */
  readonly logs?: { readonly maxLines?: number; readonly maxBytes?: number };
  /**
   * Also record what the handler prints with `console.log/info/warn/error/debug` (it is still
   * printed), so existing handlers get execution logs without changes. @default false
   */
  readonly captureConsole?: boolean;
  /** Largest payload and result of this function, bytes of JSON. @default the invoker's maxPayloadBytes */
  readonly maxPayloadBytes?: number;
  /**
   * What to hide: paths (`payload.card.number`, `result.token`, `log.password`; `*` matches any
   * key or index) replaced by `"[redacted]"`, or a function returning a redacted copy. Results and
   * log data are redacted before they are stored; payloads are stored as given (the handler
   * needs them) and redacted wherever they are shown: task records (API, task routes, dashboard),
   * destination records, events. @default nothing redacted
   */
  readonly redact?: readonly string[] | Redactor;
  /**
   * Limits across every process sharing the store, enforced by the store inside the claim.
   * Work held back stays `Enqueued`, spends no attempt, keeps its place and still expires; a
   * `throttled` event says so. `concurrency` (outside `limits`) stays a per-process cap.
   */
  readonly limits?: FunctionLimitsOptions;
}

export interface FunctionLimitsOptions {
  /** Running attempts at once across every process. */
  readonly concurrency?: number;
  /** Attempts started in any one second across every process (so bursts are at most this). */
  readonly perSecond?: number;
  /**
   * A fairness key computed from the payload at `invokeAsync` and stored (a tenant, a user):
   * groups with due work are served round-robin, so one group's backlog never holds up another's.
   * Must return a string of 1 to 256 characters.
   */
  readonly groupBy?: (payload: never) => string;
  /** Running attempts at once per group, across every process (needs `groupBy`). */
  readonly groupConcurrency?: number;
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
  /** Only invocations whose invocationId (the execution's name) starts with this. */
  readonly invocationIdPrefix?: string;
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

/**
 * Execution log of the invocation: lines are kept with it (bounded, written in batches) and
 * shown by `getInvocationLogs`, the dashboard and the CLI. A call never throws or blocks; data
 * that JSON cannot carry is recorded as its string form.
 */
export interface InvocationLogger {
  info(message: string, data?: unknown): void;
  warn(message: string, data?: unknown): void;
  error(message: string, data?: unknown): void;
}

/** What a handler gets besides its payload. */
export interface InvocationContext {
  readonly requestId: string;
  readonly functionName: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Aborted when the attempt times out, is stopped, or loses its lease. */
  readonly signal: AbortSignal;
  /** This invocation's execution log. */
  readonly log: InvocationLogger;
}

export interface GetInvocationLogsOptions {
  /** Lines after this cursor (`nextCursor` of the previous call); 0 or absent: from the start. */
  readonly after?: number;
  /** Most lines returned, 1..10000. @default 1000 */
  readonly limit?: number;
}

/** A function's handler: its payload (a JSON value) and a small context; returns a JSON value or nothing. */
export type Handler<P = JsonValue, R = JsonValue | void> = (payload: P, ctx: InvocationContext) => Promise<R> | R;
