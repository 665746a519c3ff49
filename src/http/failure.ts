/**
 * What an unexpected failure (a store down, a throwing `authorize`) becomes at the HTTP edge,
 * the same in every adapter: a 500 whose message says nothing of the cause, and the cause on the
 * invoker's `error` event, where the invoker reports every failure outside a handler.
 */
import { reportInvokerError, type Invoker } from '../invoker.js';
import { errorReply } from './reply.js';
import type { Reply } from './types.js';

/** `during` on the error event: accepting an async request, or serving the task API. */
export type HttpStage = 'http:accept' | 'http:tasks';

export function internalError(invoker: Invoker, error: unknown, during: HttpStage): Reply {
  // Counted and emitted like every background failure (a throwing listener is reported, not thrown).
  reportInvokerError(invoker, error, during);
  return errorReply(500, 'InternalError', 'the server could not handle the request');
}

/** The invoker was closed (the process is shutting down): 503, as a client may try again elsewhere. */
export function closedReply(): Reply {
  return errorReply(503, 'InvokerClosed', 'the server is shutting down and accepts no more requests');
}
