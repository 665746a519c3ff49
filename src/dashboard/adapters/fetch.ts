/** The dashboard as a fetch handler: `dashboard(invoker, { basePath: '/jobs' })` → `(request) => Promise<Response>`. */
import type { Invoker } from '../../invoker.js';
import { createDashboardCore } from '../core.js';
import { normalizeMountPath } from '../options.js';
import { errorReply } from '../reply.js';
import { isStream, type DashboardOptions, type DashboardReply, type DashboardRequest } from '../types.js';
import { underBase } from './node-io.js';

export interface FetchDashboardOptions extends DashboardOptions<Request> {
  /** The path the dashboard lives under, e.g. `/jobs`. @default '' (the root) */
  readonly basePath?: string;
  /**
   * The client's IP address, for the loopback rule when there is no `authorize`. A `Request` does
   * not carry it; by default it is read from @hono/node-server's bindings (`env.incoming`), Bun's
   * `server.requestIP()` and Deno's `info.remoteAddr`. Unknown means not loopback: refused.
   */
  readonly clientAddress?: (request: Request, ...rest: unknown[]) => string | undefined;
}

/** What the hosts pass after the request, read structurally (nothing is imported from them). */
function hostClientAddress(request: Request, ...rest: unknown[]): string | undefined {
  const first = rest[0] as
    | { incoming?: { socket?: { remoteAddress?: unknown } }; requestIP?: (r: Request) => { address?: unknown } | null; remoteAddr?: { hostname?: unknown } }
    | undefined;
  if (typeof first !== 'object' || first === null) return undefined;
  const candidates = [
    first.incoming?.socket?.remoteAddress,
    typeof first.requestIP === 'function' ? first.requestIP(request)?.address : undefined,
    first.remoteAddr?.hostname,
  ];
  const found = candidates.find((value) => typeof value === 'string');
  return typeof found === 'string' ? found : undefined;
}

export function dashboard(invoker: Invoker, options?: FetchDashboardOptions): (request: Request, ...rest: unknown[]) => Promise<Response> {
  const { basePath, clientAddress = hostClientAddress, ...rest } = options ?? {};
  const base = normalizeMountPath(basePath);
  const core = createDashboardCore<Request>(invoker, rest);
  return async (request, ...args) => {
    const url = new URL(request.url);
    const path = underBase(url.pathname, base);
    const req: DashboardRequest<Request> | undefined =
      path === undefined
        ? undefined
        : {
            method: request.method.toUpperCase(),
            path,
            query: url.search.slice(1),
            clientPath: url.pathname,
            header: (name) => request.headers.get(name) ?? (name === 'host' ? url.host : undefined),
            remoteAddress: clientAddress(request, ...args),
            raw: request,
          };
    const reply = req && (await core.handle(req));
    return toResponse(reply ?? errorReply(404, 'NotFound', 'no such dashboard route'), request);
  };
}

function toResponse(reply: DashboardReply, request: Request): Response {
  if (!isStream(reply)) {
    const body = reply.status === 304 || reply.body.length === 0 ? null : typeof reply.body === 'string' ? reply.body : new Uint8Array(reply.body);
    return new Response(body, { status: reply.status, headers: reply.headers });
  }
  const encoder = new TextEncoder();
  let stop: (() => void) | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      stop = reply.stream((chunk) => {
        try {
          controller.enqueue(encoder.encode(chunk));
        } catch {
          // Closed already: the next cancel or abort stops the stream.
        }
      });
      request.signal.addEventListener('abort', () => {
        stop?.();
        try {
          controller.close();
        } catch {
          // Already closed.
        }
      });
    },
    cancel() {
      stop?.();
    },
  });
  return new Response(body, { status: reply.status, headers: reply.headers });
}
