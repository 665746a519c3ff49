/**
 * `async-invoker/koa`: the HTTP trigger and task API as Koa middleware.
 *
 *   app.use(asyncTrigger(invoker, { app }));             // before body parsers and routes
 *   app.use(taskRoutes(invoker, { basePath: '/admin', authorize }));
 */
import type { IncomingMessage } from 'node:http';
import { InvalidArgumentError } from '../errors.js';
import type { Invoker } from '../invoker.js';
import type { TriggerOptions } from './options.js';
import { createTaskRouter } from './tasks.js';
import { createTriggerCore } from './trigger.js';
import type { Reply, RequestListener, TaskRoutesOptions } from './types.js';

export * from './exports.js';

/** The part of Koa's context the middleware uses (Koa's own `Context` satisfies it). */
export interface KoaContextLike {
  readonly req: IncomingMessage;
  readonly method: string;
  readonly url: string;
  status: number;
  body: unknown;
  set(field: string, value: string): void;
}
export type KoaNext = () => Promise<unknown>;
export type KoaMiddleware<Ctx extends KoaContextLike = KoaContextLike> = (ctx: Ctx, next: KoaNext) => Promise<void>;

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
export function asyncTrigger<Ctx extends KoaContextLike = KoaContextLike>(invoker: Invoker, options: KoaTriggerOptions): KoaMiddleware<Ctx> {
  const { app, ...rest } = options ?? ({} as KoaTriggerOptions);
  if (typeof app?.callback !== 'function') throw new InvalidArgumentError('options.app', app, 'the Koa app, e.g. asyncTrigger(invoker, { app })');
  const core = createTriggerCore(invoker, rest, () => app.callback());
  return async (ctx, next) => {
    const kind = core.classify(ctx.req);
    if (kind === undefined) {
      await next();
      return;
    }
    respond(ctx, kind === 'async' ? await core.accept(ctx.req) : kind);
  };
}

/** The task API as middleware (list, get, stop, rerun). Open unless `authorize` says otherwise. */
export function taskRoutes<Ctx extends KoaContextLike = KoaContextLike>(
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
  ctx.body = reply.body;
}
