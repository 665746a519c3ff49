/**
 * Building the trigger's and task API's answers, and writing them: to a node response
 * (Express, node:http), or as a Web `Response` (fetch). Koa and Fastify set their own fields.
 */
import type { ServerResponse } from 'node:http';
import type { Reply } from './types.js';

const JSON_TYPE = 'application/json; charset=utf-8';

export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, body };
}

/**
 * The body every non-2xx answer uses: `{ error: { code, message, ... }, ErrorCode, ErrorMessage }`.
 * `error` is this library's shape; `ErrorCode` and `ErrorMessage` are Function Compute's, which
 * its SDKs (e.g. `@alicloud/fc2`) read to build their errors. Both carry the same code and message.
 */
export function errorReply(
  status: number,
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Reply {
  return jsonReply(status, { error: { code, message, ...extra }, ErrorCode: code, ErrorMessage: message }, headers);
}

/** A 400 for a request header the trigger could not accept; names the header, the value and what is allowed. */
export function headerError(header: string, value: string, allowed: string): Reply {
  return errorReply(400, 'InvalidHeader', `${header} must be ${allowed}; received ${JSON.stringify(value)}`, {
    header,
    value,
    allowed,
  });
}

/** A copy of `reply` with one more header, unless it has that header already. */
export function withHeader(reply: Reply, name: string, value: string): Reply {
  return name in reply.headers ? reply : { ...reply, headers: { ...reply.headers, [name]: value } };
}

export function isReply(value: unknown): value is Reply {
  return typeof value === 'object' && value !== null && 'status' in value && 'body' in value;
}

/** The bytes every adapter sends: the same serialisation everywhere, so the answers agree. */
export function replyText(reply: Reply): string {
  return JSON.stringify(reply.body);
}

/** Writes `reply` to a node response (Express and node:http). */
export function sendReply(res: ServerResponse, reply: Reply): void {
  const text = replyText(reply);
  res.statusCode = reply.status;
  for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value);
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

/** `reply` as a Web `Response` (the fetch adapter). */
export function toResponse(reply: Reply): Response {
  return new Response(replyText(reply), { status: reply.status, headers: reply.headers });
}
