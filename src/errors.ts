/**
 * Error classes. Each has a literal `code` so callers can branch without `instanceof`
 * across package copies, and passes `cause` through.
 */
export abstract class AsyncInvokerError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One problem a schema found in a value: where (a path into it), what (zod's code and message). */
export interface SchemaIssue {
  readonly path: readonly (string | number)[];
  readonly code: string;
  readonly message: string;
}

/** A public option or argument is out of its allowed range. Nothing was stored. */
export class InvalidArgumentError extends AsyncInvokerError {
  readonly code = 'InvalidArgument' as const;
  /** For a payload a function's schema rejected: every issue the schema found. */
  readonly issues: readonly SchemaIssue[];
  constructor(
    /** Dotted path of the offending field, e.g. `retryBackoff.multiplier`. */
    readonly field: string,
    /** The value that was received. */
    readonly value: unknown,
    /** What is allowed, in words. */
    readonly allowed: string,
    issues: readonly SchemaIssue[] = [],
  ) {
    super(`${field} must be ${allowed}; received ${describeValue(value)}`);
    this.issues = issues;
  }
}

/**
 * A payload's JSON is larger than the limit (`maxPayloadBytes` of the function or the invoker;
 * 128 KB by default, as Function Compute's async invocations). Nothing was stored. HTTP 413.
 */
export class PayloadTooLargeError extends InvalidArgumentError {
  readonly size: number;
  readonly limit: number;
  constructor(field: string, size: number, limit: number) {
    super(field, `[${size} bytes of JSON]`, `at most ${limit} bytes of JSON (maxPayloadBytes)`);
    this.size = size;
    this.limit = limit;
  }
}

/** The same `invocationId` was used before with a different payload (HTTP 409). */
export class IdempotencyConflictError extends AsyncInvokerError {
  readonly code = 'IdempotencyConflict' as const;
  constructor(
    readonly functionName: string,
    readonly invocationId: string,
    /** The request id the first call with this invocationId got. */
    readonly requestId: string,
  ) {
    super(
      `invocationId ${JSON.stringify(invocationId)} of function ${JSON.stringify(functionName)} ` +
        `was already used with a different payload (requestId ${requestId})`,
    );
  }
}

/** No function of that name is registered on this invoker. */
export class UnknownFunctionError extends AsyncInvokerError {
  readonly code = 'UnknownFunction' as const;
  constructor(readonly functionName: string, registered: readonly string[]) {
    super(
      `function ${JSON.stringify(functionName)} is not registered` +
        (registered.length ? `; registered: ${registered.join(', ')}` : '; none are registered'),
    );
  }
}

/** No invocation with that request id (never existed, or pruned). */
export class InvocationNotFoundError extends AsyncInvokerError {
  readonly code = 'InvocationNotFound' as const;
  constructor(readonly requestId: string) {
    super(`no invocation with requestId ${JSON.stringify(requestId)}`);
  }
}

/** The operation needs a finished invocation (e.g. re-running one still under way). */
export class InvocationNotFinalError extends AsyncInvokerError {
  readonly code = 'InvocationNotFinal' as const;
  constructor(
    readonly requestId: string,
    /** The status it has now. */
    readonly status: string,
    operation: string,
  ) {
    super(
      `${operation}: invocation ${JSON.stringify(requestId)} is ${status}; only a finished invocation ` +
        `(Succeeded, Failed, Stopped, Expired, Invalid) can be re-run: wait for it, or stop it first`,
    );
  }
}

/** The invoker was closed; it accepts no more calls. */
export class InvokerClosedError extends AsyncInvokerError {
  readonly code = 'InvokerClosed' as const;
  constructor(operation: string) {
    super(`${operation} called after close()`);
  }
}

/**
 * Thrown by a handler for an error it handled itself. Retried like any failure; the
 * condition recorded is `HandledInvocationError`.
 */
export class HandledInvocationError extends AsyncInvokerError {
  readonly code: string = 'HandledInvocationError';
}

/** Thrown by a handler when retrying cannot help: the invocation fails at once. */
export class NonRetryableError extends AsyncInvokerError {
  readonly code = 'NonRetryable' as const;
}

/**
 * Thrown by a handler when a downstream limit was hit. Retried with binary exponential
 * backoff from 0.5 s without consuming attempts (condition `FunctionResourceExhausted`).
 */
export class ThrottledError extends AsyncInvokerError {
  readonly code = 'Throttled' as const;
}

/** The handler ran past `timeoutSeconds`. */
export class FunctionTimeoutError extends AsyncInvokerError {
  readonly code = 'FunctionTimeout' as const;
  constructor(readonly functionName: string, readonly timeoutSeconds: number) {
    super(`function ${JSON.stringify(functionName)} exceeded timeoutSeconds (${timeoutSeconds})`);
  }
}

/** A destination configuration would loop (A → B → A). */
export class DestinationCycleError extends AsyncInvokerError {
  readonly code = 'DestinationCycle' as const;
  constructor(readonly cycle: readonly string[]) {
    super(`destinations form a cycle: ${cycle.join(' → ')}`);
  }
}

/** A destination record is larger than the destination accepts. It was not sent. */
export class DestinationPayloadTooLargeError extends AsyncInvokerError {
  readonly code = 'DestinationPayloadTooLarge' as const;
  constructor(readonly size: number, readonly limit: number) {
    super(`destination record is ${size} bytes; the destination's limit is ${limit} bytes`);
  }
}

/** A destination refused the record or could not be reached. */
export class DestinationDeliveryError extends AsyncInvokerError {
  readonly code = 'DestinationDelivery' as const;
  constructor(
    message: string,
    /** false for answers retrying cannot change (an HTTP 4xx). */
    readonly retryable: boolean,
    options?: { cause?: unknown; statusCode?: number },
  ) {
    super(message, options);
    this.statusCode = options?.statusCode;
  }
  readonly statusCode: number | undefined;
}

/**
 * A store operation failed: its server could not be reached, refused, or did not answer in time;
 * the store was given something it cannot hold (a file that is not a database); or the store was
 * closed. `cause` is the driver's error; the message names the store and what to check.
 */
export class StoreError extends AsyncInvokerError {
  readonly code = 'StoreError' as const;
}

/** Marks a non-finite number inside a described value, so it shows unquoted (NaN, not null). */
const NON_FINITE = '\u0000non-finite:';
const NON_FINITE_QUOTED = /"\\u0000non-finite:(NaN|-?Infinity)"/g;

/** A value for an error message: short, and never throwing (whatever the caller passed). */
function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return value.toString();
  // JSON would show NaN and Infinity as null: the very values a JSON check refuses.
  if (typeof value === 'number') return String(value);
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'number' && !Number.isFinite(v) ? `${NON_FINITE}${v}` : v));
    text = text?.replace(NON_FINITE_QUOTED, '$1');
  } catch {
    // A cycle, or a getter that throws: describe it by its kind.
  }
  if (text === undefined) {
    try {
      text = String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Maps a thrown value to the task record's `{ errorType, errorMessage }`. */
export function toInvocationError(error: unknown): { errorType: string; errorMessage: string } {
  if (error instanceof Error) {
    const errorType =
      error instanceof FunctionTimeoutError ? 'FunctionTimeout' : error.name || 'Error';
    // A handler's text, made storable on every store (no NUL, no lone surrogates).
    return { errorType: storableText(String(errorType)), errorMessage: storableText(String(error.message)) };
  }
  return { errorType: 'Error', errorMessage: storableText(describeValue(error)) };
}

/** Text a handler produced (an error message, a log line), made storable everywhere: well-formed, no NUL. */
export function storableText(text: string): string {
  const wellFormed = text.isWellFormed() ? text : text.toWellFormed();
  return wellFormed.includes('\u0000') ? wellFormed.replaceAll('\u0000', '\uFFFD') : wellFormed;
}
