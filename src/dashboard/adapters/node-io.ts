/** Reading a node request and writing a reply to a node response: Express, Koa, node:http and Fastify share it. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isStream, type DashboardReply, type DashboardRequest } from '../types.js';

/** `/a/b?x=1` → [`/a/b`, `x=1`]. */
export function splitUrl(url: string): [path: string, query: string] {
  const q = url.indexOf('?');
  return q === -1 ? [url, ''] : [url.slice(0, q), url.slice(q + 1)];
}

/**
 * The path under `base` of `path`, or undefined when it is not under it (`/jobs` and `/jobs/x`
 * are under `/jobs`, `/jobsx` is not). With base `''` every path is.
 */
export function underBase(path: string, base: string): string | undefined {
  if (base === '') return path;
  if (path === base) return '';
  return path.startsWith(base + '/') ? path.slice(base.length) : undefined;
}

export function nodeRequest<Req>(raw: Req, msg: IncomingMessage, path: string, query: string, clientPath: string): DashboardRequest<Req> {
  return {
    method: (msg.method ?? 'GET').toUpperCase(),
    path,
    query,
    clientPath,
    header(name) {
      const value = msg.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    remoteAddress: msg.socket?.remoteAddress,
    raw,
  };
}

/** Writes `reply`; a stream runs until either side closes. */
export function writeNode(req: IncomingMessage, res: ServerResponse, reply: DashboardReply): void {
  res.statusCode = reply.status;
  for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value);
  if (isStream(reply)) {
    res.flushHeaders();
    const stop = reply.stream((chunk) => void res.write(chunk));
    req.once('close', stop);
    res.once('close', stop);
    return;
  }
  res.setHeader('content-length', Buffer.byteLength(reply.body));
  res.end(reply.body);
}
