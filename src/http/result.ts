/** What a replay's answer becomes: the invocation's result, or a function error for a 5xx. */
import { isUtf8 } from 'node:buffer';
import type { JsonValue } from '../types.js';
import type { ReplayResult } from './types.js';

/** The replayed route answered 5xx: a function error, so the invocation is retried per its policy. */
export class HttpReplayError extends Error {
  override readonly name = 'HttpServerError';
  constructor(readonly statusCode: number, readonly body: string) {
    super(`the route answered ${statusCode}${body ? `: ${body.length > 200 ? `${body.slice(0, 197)}...` : body}` : ''}`);
  }
}

/**
 * The task record's `result` for an answer below 500; throws `HttpReplayError` from 500 up.
 * JSON bodies are parsed, other UTF-8 text kept as a string, anything else base64.
 */
export function replayOutcome(
  statusCode: number,
  headers: { readonly [name: string]: string | string[] },
  payload: Buffer,
): ReplayResult {
  if (statusCode >= 500) throw new HttpReplayError(statusCode, payload.toString('utf8'));
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
