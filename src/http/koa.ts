/**
 * `async-invoker/koa`: the HTTP trigger and task API as Koa middleware.
 *
 *   app.use(asyncTrigger(invoker, { app }));             // before body parsers and routes
 *   app.use(taskRoutes(invoker, { basePath: '/admin', authorize: (ctx) => ctx.state.user?.admin === true }));
 *
 * The context defaults to Koa's own `ParameterizedContext` (from `@types/koa`, a type import:
 * nothing here loads koa at run time), so `authorize` sees `ctx.state`, `ctx.get(...)` and the rest.
 *
 * @module async-invoker/koa
 */
import type { IncomingMessage } from 'node:http';
import type { ParameterizedContext } from 'koa';
import { InvalidArgumentError } from '../errors.js';
import type { Invoker } from '../invoker.js';
import { nodeRequest } from './node-request.js';
import type { TriggerOptions } from './options.js';
import { injectReplay } from './replay.js';
import { replyText } from './reply.js';
import { createTaskRouter } from './tasks.js';
import { createTriggerCore } from './trigger.js';
import type { Reply, RequestListener, TaskRoutesOptions } from './types.js';

export * from './exports.js';

/** The part of Koa's context the middleware uses (Koa's own context satisfies it). */
export interface KoaContextLike {
  readonly req: IncomingMessage;
  readonly method: string;
  readonly url: string;
  status: number;
  body: unknown;
  set(field: string, value: string): void;
}
/** Koa's context, as `app.use` hands it to middleware. */
export type KoaContext = ParameterizedContext;
export type KoaNext = () => Promise<unknown>;
export type KoaMiddleware<Ctx extends KoaContextLike = KoaContext> = (ctx: Ctx, next: KoaNext) => Promise<void>;

export interface KoaTriggerOptions extends TriggerOptions {
  /**
   * The Koa app the recorded requests are replayed into. Its `callback()` is taken at each
   * replay, so routes and middleware added after this call are included.
   */
  readonly app: { callback(): RequestListener };
}

/**
 * Middleware that accepts `X-Fc-Invocation-Type: Async` requests (202 + `X-Fc-Request-Id`) and
 * replays them into `app` later; every other request goes straight to `next()`, untouched.
 */
export function asyncTrigger<Ctx extends KoaContextLike = KoaContext>(invoker: Invoker, options: KoaTriggerOptions): KoaMiddleware<Ctx> {
  const { app, ...rest } = options ?? ({} as KoaTriggerOptions);
  if (typeof app?.callback !== 'function') throw new InvalidArgumentError('options.app', app, 'the Koa app, e.g. asyncTrigger(invoker, { app })');
  const core = createTriggerCore(invoker, rest, injectReplay(() => app.callback()));
  return async (ctx, next) => {
    const request = nodeRequest(ctx.req);
    const kind = core.classify(request);
    if (kind === undefined) {
      await next();
      return;
    }
    respond(ctx, kind === 'async' ? await core.accept(request) : kind);
  };
}

/**
 * The task API as middleware (list, get, stop, rerun). Open unless `authorize` says otherwise;
 * `authorize` gets the context (`ctx.state`, `ctx.get(...)`, ...).
 */
export function taskRoutes<Ctx extends KoaContextLike = KoaContext>(
  invoker: Invoker,
  options?: TaskRoutesOptions<Ctx>,
): KoaMiddleware<Ctx> {
  const router = createTaskRouter<Ctx>(invoker, options);
  return async (ctx, next) => {
    const reply = await router.handle(ctx, ctx.method, ctx.url);
    if (reply) respond(ctx, reply);
    else await next();
  };
}

function respond(ctx: KoaContextLike, reply: Reply): void {
  ctx.status = reply.status;
  for (const [name, value] of Object.entries(reply.headers)) ctx.set(name, value);
  // The serialised text, not the object: the same bytes as every other adapter sends.
  ctx.body = replyText(reply);
}

/** The dashboard (see the README, "Dashboard"): pages, live updates and actions over this invoker. */
export { dashboard, type KoaDashboardOptions, type KoaDashboardContext } from '../dashboard/adapters/koa.js';
export type { DashboardOptions } from '../dashboard/types.js';
