/**
 * The framework-free core of `asyncTrigger`: registers the replaying function, tells async
 * requests from the rest, and accepts an async request (read, record, enqueue) into a Reply.
 * Adapters hand it a `TriggerRequest` (node or Web) and a `Replay` (light-my-request or fetch),
 * and write the Reply in their framework's way; everything they answer is decided here.
 */
import { newRequestId } from '../ids.js';
import { withRemoteParent } from '../telemetry/telemetry.js';
import { IdempotencyConflictError, InvalidArgumentError, InvokerClosedError, PayloadTooLargeError } from '../errors.js';
import type { Invoker } from '../invoker.js';
import { closedReply, internalError } from './failure.js';
import { asyncHeaders, DELAY_HEADER, invocationType, INVOCATION_ID_HEADER, REQUEST_ID_HEADER } from './headers.js';
import { compileTriggerOptions, type CompiledTrigger, type TriggerOptions } from './options.js';
import { isRecordedRequest, recordRequest, sameRequest } from './record.js';
import { errorReply, headerError, isReply, jsonReply, withHeader } from './reply.js';
import type { BodyResult, RecordedRequest, Replay, Reply, TriggerRequest } from './types.js';

export interface TriggerCore {
  readonly functionName: string;
  /**
   * `undefined` when the request must pass through untouched (no or `Sync` invocation type, or a
   * replay), `'async'` to accept it, or a 400 Reply. Synchronous, reads headers only.
   */
  classify(req: TriggerRequest): 'async' | Reply | undefined;
  /** Reads, records and enqueues an async request: 202, 400, 409, 413, 500 or 503. Never rejects. */
  accept(req: TriggerRequest): Promise<Reply>;
}

/** Registers the function whose handler is `replay` and returns the core. */
export function createTriggerCore(invoker: Invoker, options: TriggerOptions, replay: Replay): TriggerCore {
  const settings = compileTriggerOptions(options);
  invoker.register(settings.functionName, (request: RecordedRequest, ctx) => replay(request, ctx), settings.functionConfig);
  return {
    functionName: settings.functionName,
    classify(req) {
      if (req.replay) return undefined;
      const type = invocationType(req, settings.typeHeaders);
      return type === undefined || type === 'sync' ? undefined : type === 'async' ? type : identified(type);
    },
    accept: (req) =>
      accept(invoker, settings, req).then(identified, (error: unknown) =>
        identified(error instanceof InvokerClosedError ? closedReply() : internalError(invoker, error, 'http:accept')),
      ),
  };
}

/**
 * Every answer carries `X-Fc-Request-Id`, as Function Compute's do: an accepted request's id, or
 * for a refused one a fresh id that names the refusal (nothing is stored under it). FC's SDKs
 * put it in their error messages, so a client's log line can be matched with the server's.
 */
function identified(reply: Reply): Reply {
  return withHeader(reply, REQUEST_ID_HEADER, newRequestId());
}

async function accept(invoker: Invoker, settings: CompiledTrigger, req: TriggerRequest): Promise<Reply> {
  const parsed = asyncHeaders(req);
  if (isReply(parsed)) return parsed;
  // A body that cannot be read (the client went away mid-request) is the client's: not a 500.
  const body = await req.readBody(settings.maxBodyBytes).catch((): BodyResult => ({ ok: false, reason: 'aborted' }));
  if (!body.ok) return bodyError(body.reason, settings.maxBodyBytes);
  const request = recordRequest(req, body.body, settings.allowed);
  try {
    // The send span is a child of the incoming request's trace (its traceparent), unless the
    // app's own HTTP instrumentation already made a span for this request.
    const { requestId } = await withRemoteParent(req.header('traceparent'), req.header('tracestate'), () =>
      invoker.invokeAsync(settings.functionName, request, parsed),
    );
    return accepted(requestId);
  } catch (error) {
    if (error instanceof IdempotencyConflictError) return conflict(invoker, error, request);
    if (error instanceof InvalidArgumentError && error.field === 'options.delaySeconds') {
      return headerError(DELAY_HEADER, String(error.value), error.allowed);
    }
    if (error instanceof PayloadTooLargeError) {
      return errorReply(413, 'PayloadTooLarge', `the recorded request is ${error.size} bytes of JSON; at most ${error.limit} are accepted`, {
        limit: error.limit,
      }, { connection: 'close' });
    }
    // The trigger function's payload schema refused the recorded request.
    if (error instanceof InvalidArgumentError && error.field === 'payload') {
      return errorReply(400, 'InvalidPayload', error.message, { issues: error.issues });
    }
    throw error;
  }
}

function bodyError(reason: 'tooLarge' | 'consumed' | 'aborted', limit: number): Reply {
  if (reason === 'tooLarge') {
    return errorReply(413, 'PayloadTooLarge', `an async request body may be at most ${limit} bytes`, { limit }, { connection: 'close' });
  }
  if (reason === 'aborted') return errorReply(400, 'BodyIncomplete', 'the request body ended before it was complete');
  return errorReply(500, 'BodyAlreadyRead', 'the request body was read before asyncTrigger: mount asyncTrigger before body parsers');
}

function accepted(requestId: string): Reply {
  return jsonReply(202, { requestId }, { [REQUEST_ID_HEADER]: requestId });
}

/**
 * The core compares whole payloads, headers included; a client's retry may carry a new trace id
 * or user agent. The same request (method, path, query, content type, body) is a repeat, not a conflict.
 */
async function conflict(invoker: Invoker, error: IdempotencyConflictError, request: RecordedRequest): Promise<Reply> {
  const first = await invoker.getInvocation(error.requestId);
  if (first && isRecordedRequest(first.payload) && sameRequest(first.payload, request)) return accepted(error.requestId);
  return errorReply(409, 'IdempotencyConflict', `${INVOCATION_ID_HEADER} ${JSON.stringify(error.invocationId)} was already used for a different request`, {
    header: INVOCATION_ID_HEADER,
    value: error.invocationId,
    requestId: error.requestId,
  }, { [REQUEST_ID_HEADER]: error.requestId });
}
