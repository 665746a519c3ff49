/** Building the trigger's and task API's answers, and writing them to a plain node response. */
import type { ServerResponse } from 'node:http';
import type { Reply } from './types.js';

const JSON_TYPE = 'application/json; charset=utf-8';

export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, body };
}

/** The error body every non-2xx answer uses: `{ error: { code, message, ... } }`. */
export function errorReply(
  status: number,
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Reply {
  return jsonReply(status, { error: { code, message, ...extra } }, headers);
}

/** A 400 for a request header the trigger could not accept; names the header, the value and what is allowed. */
export function headerError(header: string, value: string, allowed: string): Reply {
  return errorReply(400, 'InvalidHeader', `${header} must be ${allowed}; received ${JSON.stringify(value)}`, {
    header,
    value,
    allowed,
  });
}

export function isReply(value: unknown): value is Reply {
  return typeof value === 'object' && value !== null && 'status' in value && 'body' in value;
}

/** Writes `reply` to a node response (Express and node:http; Koa sets ctx fields instead). */
export function sendReply(res: ServerResponse, reply: Reply): void {
  const text = JSON.stringify(reply.body);
  res.statusCode = reply.status;
  for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value);
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}
