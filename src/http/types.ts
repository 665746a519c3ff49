/** Types shared by the HTTP trigger's core and its Express, Koa and node:http adapters. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JsonValue } from '../types.js';

/** A plain node request listener: what every adapter finally replays into. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => unknown;

// RecordedRequest and ReplayResult are type aliases, not interfaces, so they are assignable to
// JsonValue (payloads and results must be JSON values).

/**
 * The payload of an HTTP-triggered invocation: the original request, as recorded when it was
 * accepted. It is what the task record's `payload` shows and what the replay sends again.
 */
export type RecordedRequest = {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** The path as the client sent it (still percent-encoded), without the query. */
  readonly path: string;
  /** The raw query string without `?` (`''` when none), kept verbatim so any query parser sees the same input. */
  readonly query: string;
  /** The allow-listed request headers, lower-case names. */
  readonly headers: { readonly [name: string]: string };
  /** The raw body: UTF-8 text when it is valid UTF-8, else base64 (see `bodyEncoding`); `null` when empty. */
  readonly body: string | null;
  readonly bodyEncoding: 'utf8' | 'base64';
};

/** The result of a replay that did not answer 5xx: the task record's `result`. */
export type ReplayResult = {
  readonly statusCode: number;
  readonly headers: { readonly [name: string]: string | string[] };
  /** Parsed JSON (`bodyEncoding: 'json'`), UTF-8 text (`'utf8'`), or base64 for binary (`'base64'`); `null` when empty. */
  readonly body: JsonValue;
  readonly bodyEncoding: 'json' | 'utf8' | 'base64';
};

/** What the trigger and task routes answer, before an adapter writes it in its framework's way. */
export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Sent as JSON (task records are JSON values, typed as interfaces). */
  readonly body: unknown;
}

/** Set on a request the trigger replays, so middleware can tell a replay from a client's request. */
export interface ReplayContext {
  readonly requestId: string;
  readonly functionName: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

/** `authorize(req)` answers: `true` lets the request through; `false` or `403` answers 403, `401` answers 401. */
export type AuthorizeResult = boolean | 401 | 403;

export interface TaskRoutesOptions<Req> {
  /**
   * Decides whether a task API request may proceed. The task API is OPEN when this is not
   * given: mount it behind your app's authentication, or pass this hook.
   * @default every request is allowed
   */
  readonly authorize?: (req: Req) => AuthorizeResult | Promise<AuthorizeResult>;
  /**
   * Path prefix the routes live under, e.g. `/admin` serves `/admin/invocations`. With Express
   * you can mount the middleware at a path instead (`app.use('/admin', taskRoutes(invoker))`).
   * @default ''
   */
  readonly basePath?: string;
}

export type { IncomingMessage, ServerResponse };
