/**
 * `async-invoker/express`: the HTTP trigger and task API as Express middleware.
 *
 *   app.use(asyncTrigger(invoker, { app }));            // before body parsers and routes
 *   app.use('/admin', requireAdmin, taskRoutes(invoker));
 *
 * Typed with Express's own `Request`, `Response` and `NextFunction` (from `@types/express`):
 * type imports only, so nothing here loads express at run time.
 *
 * @module async-invoker/express
 */
import type { NextFunction, Request, Response } from 'express';
import { InvalidArgumentError } from '../errors.js';
import type { Invoker } from '../invoker.js';
import { nodeRequest } from './node-request.js';
import type { TriggerOptions } from './options.js';
import { injectReplay } from './replay.js';
import { sendReply } from './reply.js';
import { createTaskRouter } from './tasks.js';
import { createTriggerCore } from './trigger.js';
import type { RequestListener, TaskRoutesOptions } from './types.js';

export * from './exports.js';
export type { NextFunction };

/** An Express middleware (assignable to `app.use`). */
export type ExpressMiddleware = (req: Request, res: Response, next: NextFunction) => void;

export interface ExpressTriggerOptions extends TriggerOptions {
  /** The Express app the recorded requests are replayed into (the same app the middleware is mounted on). */
  readonly app: RequestListener;
}

/**
 * Middleware that accepts `X-Fc-Invocation-Type: Async` requests (202 + `X-Fc-Request-Id`) and
 * replays them into `app` later; every other request goes straight to `next()`, untouched.
 */
export function asyncTrigger(invoker: Invoker, options: ExpressTriggerOptions): ExpressMiddleware {
  const { app, ...rest } = options ?? ({} as ExpressTriggerOptions);
  if (typeof app !== 'function') throw new InvalidArgumentError('options.app', app, 'the Express app, e.g. asyncTrigger(invoker, { app })');
  // Never hand the app itself to light-my-request (it would re-parent Express's prototypes).
  const core = createTriggerCore(invoker, rest, injectReplay(() => (req, res) => app(req, res)));
  return (req, res, next) => {
    const request = nodeRequest(req);
    const kind = core.classify(request);
    if (kind === undefined) return next();
    if (kind !== 'async') return sendReply(res, kind);
    void core.accept(request).then((reply) => sendReply(res, reply));
  };
}

/**
 * The task API as middleware: list, get, stop and rerun invocations. Open unless `authorize`
 * says otherwise; `authorize` gets Express's `req` (`req.get(...)`, `req.user`, ...).
 */
export function taskRoutes(invoker: Invoker, options?: TaskRoutesOptions<Request>): ExpressMiddleware {
  const router = createTaskRouter(invoker, options);
  return (req, res, next) => {
    void router.handle(req, req.method, req.url).then((reply) => (reply ? sendReply(res, reply) : next()));
  };
}

/** The dashboard (see the README, "Dashboard"): pages, live updates and actions over this invoker. */
export { dashboard, type ExpressDashboardOptions } from '../dashboard/adapters/express.js';
export type { DashboardOptions } from '../dashboard/types.js';
