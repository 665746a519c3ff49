/**
 * The framework-free core of `asyncTrigger`: registers the replaying function, tells async
 * requests from the rest, and accepts an async request (read, record, enqueue) into a Reply.
 */
import type { IncomingMessage } from 'node:http';
import { IdempotencyConflictError, InvalidArgumentError } from '../errors.js';
import type { Invoker } from '../invoker.js';
import { readBody } from './body.js';
import { asyncHeaders, DELAY_HEADER, invocationType, INVOCATION_ID_HEADER, REQUEST_ID_HEADER } from './headers.js';
import { compileTriggerOptions, type CompiledTrigger, type TriggerOptions } from './options.js';
import { isRecordedRequest, recordRequest, sameRequest } from './record.js';
import { getReplayContext, replay } from './replay.js';
import { errorReply, headerError, isReply, jsonReply } from './reply.js';
import type { RecordedRequest, Reply, RequestListener } from './types.js';

export interface TriggerCore {
  readonly functionName: string;
  /**
   * `undefined` when the request must pass through untouched (no or `Sync` invocation type, or a
   * replay), `'async'` to accept it, or a 400 Reply. Synchronous, reads headers only.
   */
  classify(req: IncomingMessage): 'async' | Reply | undefined;
  /** Reads, records and enqueues an async request: 202, 400, 409 or 413. */
  accept(req: IncomingMessage): Promise<Reply>;
}

/** Registers the function that replays into `resolveListener()` and returns the core. */
export function createTriggerCore(invoker: Invoker, options: TriggerOptions, resolveListener: () => RequestListener): TriggerCore {
  const settings = compileTriggerOptions(options);
  invoker.register(settings.functionName, (request: RecordedRequest, ctx) => replay(resolveListener, request, ctx), settings.functionConfig);
  return {
    functionName: settings.functionName,
    classify(req) {
      if (getReplayContext(req)) return undefined;
      const type = invocationType(req.headers, settings.typeHeaders);
      return type === 'sync' ? undefined : type;
    },
    accept: (req) => accept(invoker, settings, req),
  };
}

async function accept(invoker: Invoker, settings: CompiledTrigger, req: IncomingMessage): Promise<Reply> {
  const parsed = asyncHeaders(req.headers);
  if (isReply(parsed)) return parsed;
  const body = await readBody(req, settings.maxBodyBytes);
  if (!body.ok) {
    return body.reason === 'tooLarge'
      ? errorReply(413, 'PayloadTooLarge', `an async request body may be at most ${settings.maxBodyBytes} bytes`, {
          limit: settings.maxBodyBytes,
        }, { connection: 'close' })
      : errorReply(500, 'BodyAlreadyRead', 'the request body was read before asyncTrigger: mount asyncTrigger before body parsers');
  }
  const request = recordRequest(req, body.body, settings.allowed);
  try {
    const { requestId } = await invoker.invokeAsync(settings.functionName, request, parsed);
    return accepted(requestId);
  } catch (error) {
    if (error instanceof IdempotencyConflictError) return conflict(invoker, error, request);
    if (error instanceof InvalidArgumentError && error.field === 'options.delaySeconds') {
      return headerError(DELAY_HEADER, String(error.value), error.allowed);
    }
    throw error;
  }
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
