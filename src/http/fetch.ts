/**
 * `async-invoker/fetch`: the HTTP trigger and task API for Web-standard hosts, whose app is a
 * `(request: Request) => Response | Promise<Response>`: Hono's `app.fetch`, Next.js route
 * handlers, Bun, Deno, node with `@hono/node-server`.
 *
 *   const app = new Hono();  ...
 *   serve({ fetch: asyncTrigger(invoker, { fetch: app.fetch }) });
 *
 * Replays rebuild a `Request` and call your `fetch` directly: no socket, no light-my-request.
 *
 * @module async-invoker/fetch
 */
import { InvalidArgumentError } from '../errors.js';
import type { Invoker } from '../invoker.js';
import { fetchReplay } from './fetch-replay.js';
import type { TriggerOptions } from './options.js';
import { errorReply, toResponse } from './reply.js';
import { createTaskRouter } from './tasks.js';
import { createTriggerCore } from './trigger.js';
import type { FetchHandler, TaskRoutesOptions } from './types.js';
import { webRequest } from './web-request.js';

export * from './exports.js';
export type { FetchHandler };

/**
 * What the trigger returns: your handler's shape. Arguments after the request (Hono's `env` and
 * execution context, @hono/node-server's bindings) are passed on to your handler for the
 * requests that go straight through; replays are called with the request alone.
 */
export type TriggeredFetchHandler = (request: Request, ...rest: unknown[]) => Promise<Response>;

export interface FetchTriggerOptions extends TriggerOptions {
  /**
   * Your app's fetch handler: it serves synchronous requests, and async ones when they are
   * replayed (with the rebuilt `Request` as its only argument).
   */
  readonly fetch: FetchHandler;
}

/**
 * Wraps `fetch`: `X-Fc-Invocation-Type: Async` requests are answered 202 and replayed into
 * `fetch` later; every other request is handed to `fetch` at once, untouched.
 */
export function asyncTrigger(invoker: Invoker, options: FetchTriggerOptions): TriggeredFetchHandler {
  const { fetch: handler, ...rest } = options ?? ({} as FetchTriggerOptions);
  if (typeof handler !== 'function') {
    throw new InvalidArgumentError('options.fetch', handler, 'a fetch handler (request: Request) => Response, e.g. { fetch: app.fetch }');
  }
  const core = createTriggerCore(invoker, rest, fetchReplay(handler));
  // The handler is typed with the request alone (what a replay can give it); at run time the host's
  // further arguments still reach it for pass-through requests.
  const passThrough = handler as (request: Request, ...rest: unknown[]) => Response | Promise<Response>;
  return async (request, ...args) => {
    const req = webRequest(request);
    const kind = core.classify(req);
    if (kind === undefined) return passThrough(request, ...args);
    return toResponse(kind === 'async' ? await core.accept(req) : kind);
  };
}

/**
 * A fetch handler serving the task API (list, get, stop, rerun); other paths get a 404. Open
 * unless `authorize` says otherwise; `authorize` gets the `Request`.
 */
export function taskRoutes(invoker: Invoker, options?: TaskRoutesOptions<Request>): (request: Request) => Promise<Response> {
  const router = createTaskRouter(invoker, options);
  return async (request) => {
    const url = new URL(request.url);
    const reply = await router.handle(request, request.method, url.pathname + url.search);
    return toResponse(reply ?? errorReply(404, 'NotFound', `no route ${request.method} ${url.pathname}`));
  };
}

/** The dashboard (see the README, "Dashboard"): pages, live updates and actions over this invoker. */
export { dashboard, type FetchDashboardOptions } from '../dashboard/adapters/fetch.js';
export type { DashboardOptions } from '../dashboard/types.js';
