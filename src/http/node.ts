/**
 * `async-invoker/http`: the HTTP trigger and task API for a plain `node:http` handler.
 *
 *   const handler = asyncTrigger(invoker, { handler: (req, res) => { ... } });
 *   http.createServer(handler).listen(3000);
 *
 * @module async-invoker/http
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidArgumentError } from '../errors.js';
import type { Invoker } from '../invoker.js';
import { nodeRequest } from './node-request.js';
import type { TriggerOptions } from './options.js';
import { injectReplay } from './replay.js';
import { errorReply, sendReply } from './reply.js';
import { createTaskRouter } from './tasks.js';
import { createTriggerCore } from './trigger.js';
import type { RequestListener, TaskRoutesOptions } from './types.js';

export * from './exports.js';

export interface NodeTriggerOptions extends TriggerOptions {
  /** Your request handler: it serves synchronous requests, and async ones when they are replayed. */
  readonly handler: RequestListener;
}

/**
 * Wraps `handler`: `X-Fc-Invocation-Type: Async` requests are answered 202 and replayed into
 * `handler` later; every other request is handed to `handler` at once, untouched.
 */
export function asyncTrigger(invoker: Invoker, options: NodeTriggerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { handler, ...rest } = options ?? ({} as NodeTriggerOptions);
  if (typeof handler !== 'function') {
    throw new InvalidArgumentError('options.handler', handler, 'a request handler (req, res) => void');
  }
  const core = createTriggerCore(invoker, rest, injectReplay(() => handler));
  return (req, res) => {
    const request = nodeRequest(req);
    const kind = core.classify(request);
    if (kind === undefined) {
      handler(req, res);
      return;
    }
    if (kind !== 'async') return sendReply(res, kind);
    void core.accept(request).then((reply) => sendReply(res, reply));
  };
}

/**
 * A handler serving the task API. Requests outside its routes go to `next` when given, else get a 404.
 * Open unless `authorize` says otherwise.
 */
export function taskRoutes(
  invoker: Invoker,
  options?: TaskRoutesOptions<IncomingMessage>,
): (req: IncomingMessage, res: ServerResponse, next?: () => void) => void {
  const router = createTaskRouter(invoker, options);
  return (req, res, next) => {
    void router.handle(req, req.method ?? 'GET', req.url ?? '/').then((reply) => {
      if (reply) sendReply(res, reply);
      else if (next) next();
      else sendReply(res, errorReply(404, 'NotFound', `no route ${req.method} ${req.url}`));
    });
  };
}

/** The dashboard (see the README, "Dashboard"): pages, live updates and actions over this invoker. */
export { dashboard, type NodeDashboardOptions } from '../dashboard/adapters/node.js';
export type { DashboardOptions } from '../dashboard/types.js';
