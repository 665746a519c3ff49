/** A Web `Request` (Hono, Next.js, Bun, Deno, @hono/node-server) as the trigger's core reads it. */
import { readWebBody } from './body.js';
import { getReplayContext } from './replay-context.js';
import type { BodyResult, ReplayContext, TriggerRequest } from './types.js';

class WebTriggerRequest implements TriggerRequest {
  readonly #request: Request;
  constructor(request: Request) {
    this.#request = request;
  }
  get method(): string {
    return this.#request.method.toUpperCase();
  }
  /** A `Request` carries an absolute URL; the trigger records path and query, as on node. */
  get url(): string {
    const url = new URL(this.#request.url);
    return url.pathname + url.search;
  }
  header(name: string): string | undefined {
    const value = this.#request.headers.get(name);
    if (value !== null) return value;
    // A Request built in process (Next.js, Bun, a test) has its host in the URL only; on node the
    // header is always there, and the replay is addressed to it.
    return name === 'host' ? new URL(this.#request.url).host : undefined;
  }
  get replay(): ReplayContext | undefined {
    return getReplayContext(this.#request);
  }
  readBody(maxBytes: number): Promise<BodyResult> {
    return readWebBody(this.#request, maxBytes);
  }
}

export function webRequest(request: Request): TriggerRequest {
  return new WebTriggerRequest(request);
}
