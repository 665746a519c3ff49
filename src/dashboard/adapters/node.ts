/** The dashboard as a node:http handler: `dashboard(invoker, { basePath: '/jobs' })`. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Invoker } from '../../invoker.js';
import { createDashboardCore } from '../core.js';
import { normalizeMountPath } from '../options.js';
import { errorReply } from '../reply.js';
import type { DashboardOptions } from '../types.js';
import { nodeRequest, splitUrl, underBase, writeNode } from './node-io.js';

export interface NodeDashboardOptions extends DashboardOptions<IncomingMessage> {
  /** The path the dashboard lives under, e.g. `/jobs`. @default '' (the root) */
  readonly basePath?: string;
}

/** A handler serving the dashboard; other paths go to `next` when given, else get a 404. */
export function dashboard(invoker: Invoker, options?: NodeDashboardOptions): (req: IncomingMessage, res: ServerResponse, next?: () => void) => void {
  const { basePath, ...rest } = options ?? {};
  const base = normalizeMountPath(basePath);
  const core = createDashboardCore<IncomingMessage>(invoker, rest);
  return (req, res, next) => {
    const [clientPath, query] = splitUrl(req.url ?? '/');
    const path = underBase(clientPath, base);
    const pass = () => (next ? next() : writeNode(req, res, errorReply(404, 'NotFound', 'no such dashboard route')));
    if (path === undefined) return pass();
    void core.handle(nodeRequest(req, req, path, query, clientPath)).then((reply) => (reply ? writeNode(req, res, reply) : pass()));
  };
}
