/** A node `IncomingMessage` (Express, Koa, node:http, Fastify's `request.raw`) as the trigger's core reads it. */
import type { IncomingMessage } from 'node:http';
import { readNodeBody } from './body.js';
import { getReplayContext } from './replay-context.js';
import type { BodyResult, ReplayContext, TriggerRequest } from './types.js';

class NodeTriggerRequest implements TriggerRequest {
  readonly #req: IncomingMessage;
  constructor(req: IncomingMessage) {
    this.#req = req;
  }
  get method(): string {
    return (this.#req.method ?? 'GET').toUpperCase();
  }
  /** Express rewrites `req.url` under a mount path; `originalUrl` keeps what the client sent. */
  get url(): string {
    return (this.#req as { originalUrl?: string }).originalUrl ?? this.#req.url ?? '/';
  }
  header(name: string): string | undefined {
    const value = this.#req.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
  get replay(): ReplayContext | undefined {
    return getReplayContext(this.#req);
  }
  readBody(maxBytes: number): Promise<BodyResult> {
    return readNodeBody(this.#req, maxBytes);
  }
}

export function nodeRequest(req: IncomingMessage): TriggerRequest {
  return new NodeTriggerRequest(req);
}
