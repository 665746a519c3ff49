/**
 * `async-invoker/express`: the HTTP trigger and task API as Express middleware.
 *
 *   app.use(asyncTrigger(invoker, { app }));            // before body parsers and routes
 *   app.use('/admin', requireAdmin, taskRoutes(invoker));
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidArgumentError } from '../errors.js';
import type { Invoker } from '../invoker.js';
import type { TriggerOptions } from './options.js';
import { sendReply } from './reply.js';
import { createTaskRouter } from './tasks.js';
import { createTriggerCore } from './trigger.js';
import type { RequestListener, TaskRoutesOptions } from './types.js';

export * from './exports.js';

/** Express's `next`. */
export type NextFunction = (error?: unknown) => void;
/** An Express middleware over node's request and response (Express's own types extend them). */
export type ExpressMiddleware = (req: IncomingMessage, res: ServerResponse, next: NextFunction) => void;

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
  const core = createTriggerCore(invoker, rest, () => (req, res) => app(req, res));
  return (req, res, next) => {
    const kind = core.classify(req);
    if (kind === undefined) return next();
    if (kind !== 'async') return sendReply(res, kind);
    core.accept(req).then((reply) => sendReply(res, reply), next);
  };
}

/** The task API as middleware: list, get, stop and rerun invocations. Open unless `authorize` says otherwise. */
export function taskRoutes(invoker: Invoker, options?: TaskRoutesOptions<IncomingMessage>): ExpressMiddleware {
  const router = createTaskRouter(invoker, options);
  return (req, res, next) => {
    router.handle(req, req.method ?? 'GET', req.url ?? '/').then((reply) => (reply ? sendReply(res, reply) : next()), next);
  };
}
