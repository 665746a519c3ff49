/**
 * Replaying a recorded request into a Web-standard fetch handler: a `Request` is rebuilt and
 * handed to the app's `fetch` directly. No socket and no light-my-request: the app already takes
 * a plain object in and gives one back.
 */
import { replayHeaders } from './replay.js';
import { markReplay } from './replay-context.js';
import { replayOutcome } from './result.js';
import type { FetchHandler, Replay, ReplayContext } from './types.js';

/** Methods whose `Request` may not have a body (the constructor throws). */
const BODYLESS = new Set(['GET', 'HEAD']);

export function fetchReplay(handler: FetchHandler): Replay {
  return async (request, ctx) => {
    const headers = new Headers(replayHeaders(request.headers, ctx.requestId));
    const body = request.body === null || BODYLESS.has(request.method) ? null : Buffer.from(request.body, request.bodyEncoding);
    // The scheme is not recorded: replays are addressed as http to the recorded host. The path is
    // appended, not resolved, so a path like `//x` stays a path.
    const url = `http://${hostOf(request.headers.host)}${request.path}${request.query ? `?${request.query}` : ''}`;
    const replayed = new Request(url, {
      method: request.method,
      headers,
      body,
      // Aborts the replayed request when the attempt times out or is stopped.
      signal: ctx.signal,
    });
    const marker: ReplayContext = { requestId: ctx.requestId, functionName: ctx.functionName, attempt: ctx.attempt };
    markReplay(replayed, marker);
    const response = await handler(replayed);
    return replayOutcome(response.status, headersOf(response.headers), Buffer.from(await response.arrayBuffer()));
  };
}

/** The recorded `host` when it is a plain host[:port], else `localhost` (a bad one must not fail every attempt). */
function hostOf(host: string | undefined): string {
  return host !== undefined && /^[A-Za-z0-9.\-_[\]:]+$/.test(host) ? host : 'localhost';
}

function headersOf(headers: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of headers) if (name !== 'set-cookie') out[name] = value;
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out['set-cookie'] = cookies.length === 1 ? cookies[0]! : cookies;
  return out;
}
