/**
 * Replaying a recorded request into the app, in process and without a socket, with
 * light-my-request (an optional peer dependency, loaded on the first replay).
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { InvocationContext } from '../options.js';
import type { JsonValue } from '../types.js';
import type { RecordedRequest, ReplayContext, ReplayResult, RequestListener } from './types.js';

/** `Symbol.for` so two copies of the package in one process still recognise each other's replays. */
const REPLAY = Symbol.for('async-invoker.http.replay');

type Inject = typeof import('light-my-request');
let injectPromise: Promise<Inject> | undefined;

function loadInject(): Promise<Inject> {
  injectPromise ??= import('light-my-request').then(
    (mod) => ((mod as { default?: Inject }).default ?? mod) as Inject,
    (error: unknown) => {
      injectPromise = undefined;
      throw new Error("asyncTrigger replays requests with 'light-my-request'; install it: npm install light-my-request", { cause: error });
    },
  );
  return injectPromise;
}

/** The replay's invocation when `req` is a request the trigger replays, else `undefined`. */
export function getReplayContext(req: IncomingMessage): ReplayContext | undefined {
  return (req as IncomingMessage & { [REPLAY]?: ReplayContext })[REPLAY];
}

/** The replayed route answered 5xx: a function error, so the invocation is retried per its policy. */
export class HttpReplayError extends Error {
  override readonly name = 'HttpServerError';
  constructor(readonly statusCode: number, readonly body: string) {
    super(`the route answered ${statusCode}${body ? `: ${body.length > 200 ? `${body.slice(0, 197)}...` : body}` : ''}`);
  }
}

/**
 * Runs `request` through the listener `resolve()` returns (resolved per replay: Koa's callback
 * must see routes added after the trigger was created). Throws `HttpReplayError` on 5xx.
 */
export async function replay(
  resolve: () => RequestListener,
  request: RecordedRequest,
  ctx: InvocationContext,
): Promise<ReplayResult> {
  const inject = await loadInject();
  const listener = resolve();
  const marker: ReplayContext = { requestId: ctx.requestId, functionName: ctx.functionName, attempt: ctx.attempt };
  // A plain wrapper, never the Express app itself: light-my-request re-parents the prototypes of
  // anything that looks like an Express app, which breaks every real response afterwards.
  const dispatch: RequestListener = (req, res) => {
    (req as IncomingMessage & { [REPLAY]?: ReplayContext })[REPLAY] = marker;
    pinOwnMethods(req);
    pinOwnMethods(res);
    return listener(req, res);
  };
  const body = request.body === null ? undefined : Buffer.from(request.body, request.bodyEncoding);
  const response = await inject(dispatch, {
    method: request.method as 'GET',
    url: request.query ? `${request.path}?${request.query}` : request.path,
    headers: { ...request.headers, 'x-fc-request-id': ctx.requestId },
    ...(body ? { payload: body } : {}),
    // Aborts the replayed request when the attempt times out or is stopped.
    signal: ctx.signal,
    // The options are built here, not by a user: skip light-my-request's per-call schema check.
    validate: false,
  });
  if (response.statusCode >= 500) throw new HttpReplayError(response.statusCode, response.payload);
  return toResult(response.statusCode, response.headers, response.rawPayload);
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

function toResult(statusCode: number, raw: OutgoingHttpHeaders, payload: Buffer): ReplayResult {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.map(String) : String(value);
  }
  if (payload.length === 0) return { statusCode, headers, body: null, bodyEncoding: 'utf8' };
  const type = String(headers['content-type'] ?? '');
  if (/[/+]json\b/i.test(type)) {
    try {
      return { statusCode, headers, body: JSON.parse(payload.toString('utf8')) as JsonValue, bodyEncoding: 'json' };
    } catch {
      // Declared JSON that is not: keep it as text below rather than fail the invocation.
    }
  }
  return isUtf8(payload)
    ? { statusCode, headers, body: payload.toString('utf8'), bodyEncoding: 'utf8' }
    : { statusCode, headers, body: payload.toString('base64'), bodyEncoding: 'base64' };
}
