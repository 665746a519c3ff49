import type { Condition, JsonValue } from '../types.js';

/** The record sent to a destination, in Function Compute's shape. */
export interface DestinationRecord {
  /** Epoch ms when the outcome was known. */
  readonly timestamp: number;
  readonly requestContext: {
    readonly requestId: string;
    /** `functions/<name>` */
    readonly functionArn: string;
    /** `''` on success. */
    readonly condition: Condition;
    readonly approximateInvokeCount: number;
  };
  readonly requestPayload: JsonValue;
  readonly responseContext: {
    readonly statusCode: number;
    readonly functionError: string;
  };
  /** The handler's result on success; `{ errorType, errorMessage }` on failure. */
  readonly responsePayload: JsonValue;
}

/** What a destination's `send` learns besides the record. */
export interface DestinationContext {
  /** onSuccess or onFailure. */
  readonly target: 'onSuccess' | 'onFailure';
  /** Delivery attempt, from 1. */
  readonly attempt: number;
  /** Aborted when the invoker closes. */
  readonly signal: AbortSignal;
}

/**
 * Anything that can take a destination record: a queue, a bus, a log. Throw (or reject) to
 * have the delivery retried; throw a `DestinationDeliveryError` with `retryable: false` for
 * an answer retrying cannot change.
 */
export interface Destination {
  send(record: DestinationRecord, context: DestinationContext): Promise<void> | void;
  /**
   * Largest record, in bytes of JSON, this destination accepts.
   * @default 262144 (256 KB)
   */
  readonly maxRecordBytes?: number;
  /** For messages. */
  readonly description?: string;
}

/** Another registered function, invoked asynchronously with the record as its payload. */
export interface FunctionDestination {
  readonly function: string;
}

export type DestinationCallback = (record: DestinationRecord, context: DestinationContext) => Promise<void> | void;

export type DestinationTarget = FunctionDestination | DestinationCallback | Destination;

export interface DestinationsConfig {
  readonly onSuccess?: DestinationTarget;
  readonly onFailure?: DestinationTarget;
}
