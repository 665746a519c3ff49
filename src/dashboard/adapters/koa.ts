/** The dashboard as Koa middleware: `app.use(dashboard(invoker, { basePath: '/jobs' }))`. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ParameterizedContext } from 'koa';
import type { Invoker } from '../../invoker.js';
import { createDashboardCore } from '../core.js';
import { normalizeMountPath } from '../options.js';
import { isStream, type DashboardOptions } from '../types.js';
import { nodeRequest, splitUrl, underBase, writeNode } from './node-io.js';

/** The part of Koa's context the dashboard uses (Koa's own context satisfies it). */
export interface KoaDashboardContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: string;
  status: number;
  body: unknown;
  /** Set to false for the live stream, which is written to `res` directly. */
  respond?: boolean;
  set(field: string, value: string): void;
}

export interface KoaDashboardOptions<Ctx> extends DashboardOptions<Ctx> {
  /** The path the dashboard lives under, e.g. `/jobs`. @default '' (the root) */
  readonly basePath?: string;
}

export function dashboard<Ctx extends KoaDashboardContext = ParameterizedContext>(
  invoker: Invoker,
  options?: KoaDashboardOptions<Ctx>,
): (ctx: Ctx, next: () => Promise<unknown>) => Promise<void> {
  const { basePath, ...rest } = options ?? {};
  const base = normalizeMountPath(basePath);
  const core = createDashboardCore<Ctx>(invoker, rest);
  return async (ctx, next) => {
    const [clientPath, query] = splitUrl(ctx.url);
    const path = underBase(clientPath, base);
    const reply = path === undefined ? undefined : await core.handle(nodeRequest(ctx, ctx.req, path, query, clientPath));
    if (!reply) {
      await next();
      return;
    }
    if (isStream(reply)) {
      // Koa would end the response after the middleware; the stream outlives it.
      ctx.respond = false;
      writeNode(ctx.req, ctx.res, reply);
      return;
    }
    ctx.status = reply.status;
    for (const [name, value] of Object.entries(reply.headers)) ctx.set(name, value);
    ctx.body = reply.body;
  };
}
