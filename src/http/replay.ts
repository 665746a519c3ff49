/**
 * Replaying a recorded request into a node request listener, in process and without a socket,
 * with light-my-request: the Express, Koa, node:http and Fastify adapters.
 */
import { activeTraceParent } from '../telemetry/telemetry.js';
import type { OutgoingHttpHeaders } from 'node:http';
import { assertInjector, loadInject, type Resolve } from './injector.js';
import { markReplay } from './replay-context.js';
import { replayOutcome } from './result.js';
import type { Replay, ReplayContext, RequestListener } from './types.js';

/**
 * The replay into the listener `resolve()` returns, resolved per replay (Koa's callback must see
 * routes added after the trigger was created). Checks at once that light-my-request is installed.
 */
export function injectReplay(resolve: () => RequestListener, resolveModule?: Resolve): Replay {
  assertInjector(resolveModule);
  return async (request, ctx) => {
    const inject = await loadInject();
    const listener = resolve();
    const marker: ReplayContext = { requestId: ctx.requestId, functionName: ctx.functionName, attempt: ctx.attempt };
    // A plain wrapper, never the Express app itself: light-my-request re-parents the prototypes of
    // anything that looks like an Express app, which breaks every real response afterwards.
    const dispatch: RequestListener = (req, res) => {
      markReplay(req, marker);
      pinOwnMethods(req);
      pinOwnMethods(res);
      return listener(req, res);
    };
    const body = request.body === null ? undefined : Buffer.from(request.body, request.bodyEncoding);
    const response = await inject(dispatch, {
      method: request.method as 'GET',
      url: request.query ? `${request.path}?${request.query}` : request.path,
      headers: replayHeaders(request.headers, ctx.requestId),
      ...(body ? { payload: body } : {}),
      // Aborts the replayed request when the attempt times out or is stopped.
      signal: ctx.signal,
      // The options are built here, not by a user: skip light-my-request's per-call schema check.
      validate: false,
    });
    return replayOutcome(response.statusCode, stringHeaders(response.headers), response.rawPayload);
  };
}

/** The methods of each injected prototype, listed once. */
const methodsOf = new WeakMap<object, readonly (readonly [string, unknown])[]>();

/**
 * Copies the methods of the injected object's own class (light-my-request's Request/Response:
 * `write`, `end`, `destroy`, ...) onto the instance. Express swaps the prototype of every request
 * and response for its own; without this the response body would never reach light-my-request.
 * Instance properties survive the swap, and the shared prototypes stay untouched.
 */
function pinOwnMethods(target: object): void {
  const proto: object | null = Object.getPrototypeOf(target);
  if (!proto) return;
  let methods = methodsOf.get(proto);
  if (!methods) {
    methods = Object.getOwnPropertyNames(proto)
      .map((key) => [key, Object.getOwnPropertyDescriptor(proto, key)?.value] as const)
      .filter(([key, value]) => key !== 'constructor' && typeof value === 'function');
    methodsOf.set(proto, methods);
  }
  for (const [key, value] of methods) {
    if (!Object.hasOwn(target, key)) Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: false });
  }
}

function stringHeaders(raw: OutgoingHttpHeaders): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return headers;
}

/**
 * The recorded headers, with the request id and, when tracing, the attempt's `traceparent` (a
 * recorded one is replaced: the replay continues the invocation's trace, not the original request's).
 */
export function replayHeaders(recorded: Readonly<Record<string, string>>, requestId: string): Record<string, string> {
  const headers: Record<string, string> = { ...recorded, 'x-fc-request-id': requestId };
  const traceparent = activeTraceParent();
  if (traceparent) {
    headers.traceparent = traceparent;
    delete headers.tracestate;
  }
  return headers;
}
