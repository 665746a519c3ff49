/** Turning an accepted request into the invocation's payload, and comparing two of them. */
import { isUtf8 } from 'node:buffer';
import type { RecordedRequest, TriggerRequest } from './types.js';

/**
 * Request headers recorded by default. Credentials (`authorization`, `cookie`) are left out on
 * purpose: the payload is stored and shown by the task API. Add them with `allowHeaders` if the
 * replayed route needs them, or let your auth middleware recognise replays with `getReplayContext`.
 */
export const DEFAULT_ALLOWED_HEADERS: readonly string[] = Object.freeze([
  'accept',
  'accept-language',
  'content-encoding',
  'content-language',
  'content-type',
  'host',
  'traceparent',
  'tracestate',
  'user-agent',
  'x-correlation-id',
  'x-request-id',
]);

/** Headers that only steer the trigger itself: never recorded, so a replay cannot re-enqueue. */
export const TRIGGER_HEADERS: ReadonlySet<string> = new Set([
  'x-fc-invocation-type',
  'x-invocation-type',
  'x-fc-async-delay',
  'x-fc-stateful-async-invocation-id',
  'content-length',
  'transfer-encoding',
]);

export function recordRequest(req: TriggerRequest, body: Buffer, allowed: ReadonlySet<string>): RecordedRequest {
  const url = req.url;
  const q = url.indexOf('?');
  const headers: Record<string, string> = {};
  for (const name of allowed) {
    const value = req.header(name);
    if (value !== undefined && !TRIGGER_HEADERS.has(name)) headers[name] = value;
  }
  // NUL is valid UTF-8 but not storable text everywhere (PostgreSQL's jsonb refuses it): such a body goes as base64.
  const text = body.length > 0 && isUtf8(body) && !body.includes(0);
  return {
    method: req.method,
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
    headers,
    body: body.length === 0 ? null : text ? body.toString('utf8') : body.toString('base64'),
    bodyEncoding: body.length === 0 || text ? 'utf8' : 'base64',
  };
}

/**
 * Whether two recordings are the same request for idempotency: method, path, query, content
 * type and body. Other headers (trace ids, user agents) may differ between a client's retries.
 */
export function sameRequest(a: RecordedRequest, b: RecordedRequest): boolean {
  return (
    a.method === b.method &&
    a.path === b.path &&
    a.query === b.query &&
    a.body === b.body &&
    a.bodyEncoding === b.bodyEncoding &&
    a.headers['content-type'] === b.headers['content-type']
  );
}

export function isRecordedRequest(value: unknown): value is RecordedRequest {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<RecordedRequest>;
  return typeof v.method === 'string' && typeof v.path === 'string' && typeof v.query === 'string' && typeof v.headers === 'object';
}
