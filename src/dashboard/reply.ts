/** The dashboard's answers: JSON and errors (the task API's error shape), with its security headers on all. */
import type { BodyReply } from './types.js';

/**
 * The page runs only its own built script and style: no inline code, nothing from another host,
 * no frames, no forms, no plugins. `connect-src 'self'` covers the API and the live stream.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Sent with every answer, the page's and the API's alike. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
});

const JSON_TYPE = 'application/json; charset=utf-8';

export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): BodyReply {
  return {
    status,
    // Invocation data changes and may be private: never cached.
    headers: { ...SECURITY_HEADERS, 'content-type': JSON_TYPE, 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/** `{ error: { code, message } }`, as the task API answers (plus Function Compute's ErrorCode and ErrorMessage). */
export function errorReply(status: number, code: string, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): BodyReply {
  return jsonReply(status, { error: { code, message, ...extra }, ErrorCode: code, ErrorMessage: message }, headers);
}

export function notFound(what = 'no such dashboard route'): BodyReply {
  return errorReply(404, 'NotFound', what);
}

export function methodNotAllowed(method: string, allowed: string): BodyReply {
  return errorReply(405, 'MethodNotAllowed', `${method} is not allowed here; use ${allowed}`, {}, { allow: allowed });
}
