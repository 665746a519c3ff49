/** What the dashboard's core reads from a request and answers, whatever the framework. */
import type { AuthorizeResult } from '../http/types.js';

/** A request as the core sees it; each adapter builds one from its framework's request. */
export interface DashboardRequest<Req> {
  /** Upper-case method. */
  readonly method: string;
  /** The path under the dashboard's mount point, starting with `/` (`/`, `/api/overview`). */
  readonly path: string;
  /** The raw query string without `?` (`''` when none). */
  readonly query: string;
  /** The path as the client sent it, used only to redirect `/jobs` to `/jobs/`. */
  readonly clientPath: string;
  /** One header by lower-case name. */
  header(name: string): string | undefined;
  /** The peer's IP address, when the host knows it. */
  readonly remoteAddress: string | undefined;
  /** The framework's own request (Express `req`, Koa `ctx`, ...), handed to `authorize`. */
  readonly raw: Req;
}

/** Called with each chunk of a Server-Sent Events stream; returns the function that ends it. */
export type StreamStart = (send: (chunk: string) => void) => () => void;

/** A complete answer: JSON, HTML or an asset. */
export interface BodyReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

/** A streamed answer (the live updates). The adapter writes the head, then calls `start`. */
export interface StreamReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly stream: StreamStart;
}

export type DashboardReply = BodyReply | StreamReply;

export function isStream(reply: DashboardReply): reply is StreamReply {
  return 'stream' in reply;
}

export type Authorize<Req> = (req: Req) => AuthorizeResult | Promise<AuthorizeResult>;

/** Options every adapter's `dashboard` takes (besides its own way of naming the mount path). */
export interface DashboardOptions<Req> {
  /**
   * Decides every request (pages, assets, API, live updates): `true` lets it through, `401`
   * answers 401, `false` or `403` answers 403. With it the dashboard may stop and re-run
   * invocations (unless `readOnly`). Without it the dashboard is read-only and answers only
   * clients on the loopback address (never a request forwarded by a proxy).
   */
  readonly authorize?: Authorize<Req>;
  /** Hide and refuse the actions (stop, re-run, bulk). @default false with `authorize`; always true without */
  readonly readOnly?: boolean;
  /** Shown in the page's title and header. @default 'async-invoker' */
  readonly title?: string;
  /**
   * Origins (`https://admin.example.com`) allowed to POST actions besides the request's own
   * (`Host`): for a proxy that rewrites `Host`. @default []
   */
  readonly allowedOrigins?: readonly string[];
  /** Most invocations one bulk action acts on; its confirmation says when a filter matches more. @default 10000 */
  readonly maxBulk?: number;
}
