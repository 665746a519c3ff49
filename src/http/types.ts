/** Types shared by the HTTP trigger's core and its adapters (Express, Koa, node:http, Fastify, fetch). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InvocationContext } from '../options.js';
import type { JsonValue } from '../types.js';

/** A plain node request listener: what the node-based adapters replay into. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => unknown;

/** A Web-standard app: Hono's `app.fetch`, a Next.js route handler, Bun's and Deno's `fetch`. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Reading the raw body of an async request: the bytes, or why there are none to store. */
export type BodyResult =
  | { readonly ok: true; readonly body: Buffer }
  | { readonly ok: false; readonly reason: 'tooLarge' | 'consumed' | 'aborted' };

/**
 * A request as the trigger's core sees it, whatever the framework: a node `IncomingMessage`
 * (`node-request.ts`) or a Web `Request` (`web-request.ts`). The core reads headers on every
 * request, the rest only for an async one.
 */
export interface TriggerRequest {
  /** Upper-case method. */
  readonly method: string;
  /** Path and query as the client sent them (`/upload?format=mp4`). */
  readonly url: string;
  /** One header by lower-case name; repeated values joined with `, `. */
  header(name: string): string | undefined;
  /** Set when this request is one the trigger replays. */
  readonly replay: ReplayContext | undefined;
  /** The raw body, refused past `maxBytes` (see body.ts for what happens to the rest). */
  readBody(maxBytes: number): Promise<BodyResult>;
}

/**
 * Runs a recorded request through the app: the registered function's handler. Resolves to the
 * result, throws `HttpReplayError` for a 5xx answer (a function error, retried).
 */
export type Replay = (request: RecordedRequest, ctx: InvocationContext) => Promise<ReplayResult>;

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
