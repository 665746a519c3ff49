/** The dashboard as Express middleware: `app.use('/jobs', dashboard(invoker, options))`. */
import type { NextFunction, Request, Response } from 'express';
import type { Invoker } from '../../invoker.js';
import { createDashboardCore } from '../core.js';
import type { DashboardOptions } from '../types.js';
import { nodeRequest, splitUrl, writeNode } from './node-io.js';

export type ExpressDashboardOptions = DashboardOptions<Request>;

/**
 * Serves the dashboard under the path it is mounted at (Express gives it `req.url` relative to
 * the mount). `authorize` gets Express's `req`. Paths that are not the dashboard's go to `next()`.
 */
export function dashboard(invoker: Invoker, options?: ExpressDashboardOptions): (req: Request, res: Response, next: NextFunction) => void {
  const core = createDashboardCore<Request>(invoker, options);
  return (req, res, next) => {
    const [path, query] = splitUrl(req.url);
    const [clientPath] = splitUrl(req.originalUrl ?? req.url);
    void core.handle(nodeRequest(req, req, path, query, clientPath)).then((reply) => (reply ? writeNode(req, res, reply) : next()));
  };
}
