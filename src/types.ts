/** A JSON value: what payloads and results may be. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Function Compute's task statuses. */
export const INVOCATION_STATUSES = [
  'Enqueued',
  'Running',
  'Retrying',
  'Succeeded',
  'Failed',
  'Stopping',
  'Stopped',
  'Expired',
  'Invalid',
] as const;
export type InvocationStatus = (typeof INVOCATION_STATUSES)[number];

/** Statuses after which the handler never runs again. */
export const FINAL_STATUSES: ReadonlySet<InvocationStatus> = new Set([
  'Succeeded',
  'Failed',
  'Stopped',
  'Expired',
  'Invalid',
]);

export function isFinalStatus(status: InvocationStatus): boolean {
  return FINAL_STATUSES.has(status);
}

/** One entry of a task record's history. */
export interface InvocationEvent {
  /** Epoch milliseconds. */
  readonly at: number;
  readonly status: InvocationStatus;
  /** The attempt this event belongs to (0 before the first attempt). */
  readonly attempt: number;
  readonly detail?: string;
}

export interface InvocationError {
  readonly errorType: string;
  readonly errorMessage: string;
}

/** The task record returned by `getInvocation` and `listInvocations`. Times are epoch ms. */
export interface InvocationRecord {
  readonly requestId: string;
  readonly functionName: string;
  readonly status: InvocationStatus;
  readonly payload: JsonValue;
  /** Attempts started so far (Function Compute's approximateInvokeCount). */
  readonly attempts: number;
  readonly createdAt: number;
  /** When the invocation is (or was last) due to run. */
  readonly scheduledAt: number;
  readonly startedAt?: number;
  readonly endedAt?: number;
  readonly result?: JsonValue;
  readonly error?: InvocationError;
  /** Why it ended, once final (`''` on success); see the DESIGN's error table. */
  readonly condition?: Condition;
  readonly invocationId?: string;
  /** The invocation this one re-runs (`rerunInvocation`). */
  readonly rerunOf?: string;
  readonly events: readonly InvocationEvent[];
}

/** Why an invocation ended (the destination record's `condition`). */
export type Condition =
  | ''
  | 'UnhandledInvocationError'
  | 'HandledInvocationError'
  | 'AsyncEventExpiredDropped'
  | 'Stopped'
  | 'FunctionResourceExhausted'
  /** The stored payload no longer matches the function's payload schema (status `Invalid`). */
  | 'InvalidPayload';
