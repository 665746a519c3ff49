/** Builds the destination record (Function Compute's shape) from a finished invocation. */
import type { StoredInvocation } from '../stores/contract.js';
import type { DestinationRecord } from './types.js';

export function destinationRecord(invocation: StoredInvocation): DestinationRecord {
  const condition = invocation.condition ?? '';
  const succeeded = invocation.status === 'Succeeded';
  return {
    timestamp: invocation.endedAt ?? invocation.createdAt,
    requestContext: {
      requestId: invocation.requestId,
      functionArn: `functions/${invocation.functionName}`,
      condition: succeeded ? '' : condition,
      approximateInvokeCount: invocation.attempts,
    },
    requestPayload: invocation.payload,
    responseContext: { statusCode: 200, functionError: succeeded ? '' : condition },
    responsePayload: succeeded
      ? (invocation.result ?? null)
      : {
          errorType: invocation.error?.errorType ?? condition,
          errorMessage: invocation.error?.errorMessage ?? '',
        },
  };
}
