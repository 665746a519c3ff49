/** Sends one destination record to one target and says what happened. Never throws. */
import { DestinationDeliveryError, DestinationPayloadTooLargeError, toInvocationError } from '../errors.js';
import type { StoredInvocation } from '../stores/contract.js';
import type { InvocationError, JsonValue } from '../types.js';
import { destinationRecord } from './record.js';
import type { ResolvedDestination } from './resolve.js';

/** Default largest record a destination takes (256 KB). */
export const DEFAULT_MAX_RECORD_BYTES = 262_144;

export type DeliveryOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly retryable: boolean; readonly error: InvocationError };

export interface DispatchDeps {
  /** Invokes a function asynchronously on behalf of a destination (idempotent per source). */
  readonly enqueueFunction: (functionName: string, payload: JsonValue, source: StoredInvocation) => Promise<void>;
  readonly maxHops: number;
  readonly signal: AbortSignal;
}

export async function dispatch(
  target: ResolvedDestination,
  targetName: 'onSuccess' | 'onFailure',
  invocation: StoredInvocation,
  attempt: number,
  deps: DispatchDeps,
): Promise<DeliveryOutcome> {
  const record = destinationRecord(invocation);
  const limit = target.kind === 'send' ? (target.destination.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES) : DEFAULT_MAX_RECORD_BYTES;
  const size = Buffer.byteLength(JSON.stringify(record));
  if (size > limit) {
    return { ok: false, retryable: false, error: toInvocationError(new DestinationPayloadTooLargeError(size, limit)) };
  }
  try {
    if (target.kind === 'function') {
      if (invocation.hops + 1 > deps.maxHops) {
        return {
          ok: false,
          retryable: false,
          error: {
            errorType: 'DestinationHopLimit',
            errorMessage: `destination chain reached the hop limit (${deps.maxHops}) at function ${JSON.stringify(target.functionName)}; not invoked`,
          },
        };
      }
      await deps.enqueueFunction(target.functionName, record as unknown as JsonValue, invocation);
    } else {
      await target.destination.send(record, { target: targetName, attempt, signal: deps.signal });
    }
    return { ok: true };
  } catch (error) {
    const retryable = error instanceof DestinationDeliveryError ? error.retryable : true;
    return { ok: false, retryable, error: toInvocationError(error) };
  }
}
