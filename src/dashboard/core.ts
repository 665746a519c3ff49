/**
 * The dashboard's routing on plain values, shared by every adapter (as `http/tasks.ts` is for the
 * task API). Under the mount point:
 *   GET  /                                   the page (it routes with the URL's hash)
 *   GET  /assets/app.js | /assets/app.css    its built files, nothing else
 *   GET  /api/session                        title, readOnly, registered functions
 *   GET  /api/overview                       per function: queue, last hour, charts; live workers
 *   GET  /api/invocations?filter&cursor      a page of rows
 *   GET  /api/invocations/:id                one record and which actions apply
 *   GET  /api/invocations/:id/logs?after     execution log lines after a cursor
 *   POST /api/invocations/:id/stop | /rerun  actions
 *   GET  /api/bulk?action&filter             how many a bulk action would take
 *   POST /api/bulk/stop | /rerun?filter&max  the bulk action
 *   GET  /api/live?topic=...                 Server-Sent Events
 */
import { InvalidArgumentError, InvocationNotFinalError, InvocationNotFoundError, InvokerClosedError } from '../errors.js';
import { reportInvokerError, type Invoker } from '../invoker.js';
import { checkAccess, checkSameOrigin } from './access.js';
import { loadAssets } from './assets.js';
import { previewBulk, runBulk } from './bulk.js';
import { detail, listSummaries } from './invocations.js';
import { LiveHub, type Topic } from './live.js';
import { compileDashboardOptions } from './options.js';
import { readOverview } from './overview.js';
import { pageReply, slashRedirect } from './page.js';
import {
  bulkActionSchema,
  bulkPreviewSchema,
  bulkRunSchema,
  emptyQuerySchema,
  listQuerySchema,
  liveQuerySchema,
  logsQuerySchema,
  MAX_QUERY_LENGTH,
  parseQuery,
  type LiveQuery,
} from './query.js';
import { errorReply, jsonReply, methodNotAllowed, notFound, SECURITY_HEADERS } from './reply.js';
import type { DashboardOptions, DashboardReply, DashboardRequest } from './types.js';

export interface DashboardCore<Req> {
  /**
   * The answer to a request under the mount point, or undefined for a path that is none of the
   * dashboard's (the adapter passes it on). Never rejects: an unexpected failure (of `authorize`
   * too) is a 500 that says nothing of it, and an `error` event on the invoker.
   */
  handle(req: DashboardRequest<Req>): Promise<DashboardReply | undefined>;
}

/** `during` on the invoker's error event for the dashboard's failures. */
export const DASHBOARD_STAGE = 'http:dashboard';

export function createDashboardCore<Req>(invoker: Invoker, options?: DashboardOptions<Req>): DashboardCore<Req> {
  if (typeof (invoker as Partial<Invoker> | undefined)?.listInvocations !== 'function') {
    throw new InvalidArgumentError('invoker', invoker, 'an invoker from createInvoker()');
  }
  const settings = compileDashboardOptions(options);
  const assets = loadAssets();
  const report = (error: unknown) => reportInvokerError(invoker, error, DASHBOARD_STAGE);
  const live = new LiveHub(invoker, report);

  // The dashboard answers its own paths, including their 404s; anything else goes back to the app.
  const isOwnPath = (path: string) => path === '' || path === '/' || /^\/(api|assets)(\/|$)/.test(path);

  async function route(req: DashboardRequest<Req>): Promise<DashboardReply> {
    const { method, path, query } = req;
    const read = method === 'GET' || method === 'HEAD';
    if (path === '' || path === '/') {
      if (!read) return methodNotAllowed(method, 'GET');
      if (path === '' || !req.clientPath.endsWith('/')) return slashRedirect(req.clientPath, query);
      return pageReply(assets, settings.title);
    }
    if (path.startsWith('/assets/')) {
      if (!read) return methodNotAllowed(method, 'GET');
      return assets.reply(path.slice('/assets/'.length), req.header('accept-encoding'), req.header('if-none-match')) ?? notFound('no such asset');
    }
    if (!path.startsWith('/api/')) return notFound();
    const segments = path.slice('/api/'.length).split('/');
    const [first, id, action] = segments;
    if (first === 'session' && segments.length === 1) return read ? session() : methodNotAllowed(method, 'GET');
    if (first === 'overview' && segments.length === 1) {
      if (!read) return methodNotAllowed(method, 'GET');
      const q = parseQuery(emptyQuerySchema, query);
      return q.ok ? jsonReply(200, await readOverview(invoker)) : q.reply;
    }
    if (first === 'live' && segments.length === 1) return method === 'GET' ? openLive(query) : methodNotAllowed(method, 'GET');
    if (first === 'bulk') return bulk(req, id, segments.length);
    if (first !== 'invocations' || segments.length > 3) return notFound();
    if (id === undefined) {
      if (!read) return methodNotAllowed(method, 'GET');
      const q = parseQuery(listQuerySchema, query);
      return q.ok ? jsonReply(200, await listSummaries(invoker, q.value)) : q.reply;
    }
    const requestId = decodeSegment(id);
    if (requestId === undefined || requestId === '' || requestId.length > 256) return notFound('no invocation with that request id');
    if (action === undefined) {
      if (!read) return methodNotAllowed(method, 'GET');
      const record = await invoker.getInvocation(requestId);
      return record ? jsonReply(200, detail(record)) : invocationNotFound();
    }
    if (action === 'logs') {
      if (!read) return methodNotAllowed(method, 'GET');
      const q = parseQuery(logsQuerySchema, query);
      if (!q.ok) return q.reply;
      return jsonReply(200, await invoker.getInvocationLogs(requestId, { after: q.value.after ?? 0, limit: q.value.limit ?? 1000 }));
    }
    if (action !== 'stop' && action !== 'rerun') return notFound();
    if (method !== 'POST') return methodNotAllowed(method, 'POST');
    const refused = refuseAction(req);
    if (refused) return refused;
    const q = parseQuery(emptyQuerySchema, query);
    if (!q.ok) return q.reply;
    if (action === 'stop') {
      const result = await invoker.stopInvocation(requestId);
      live.touch(requestId);
      return jsonReply(200, { ...result });
    }
    const { requestId: newId } = await invoker.rerunInvocation(requestId);
    return jsonReply(202, { requestId: newId, rerunOf: requestId });
  }

  function session(): DashboardReply {
    return jsonReply(200, { title: settings.title, readOnly: settings.readOnly, maxBulk: settings.maxBulk, functions: invoker.functions() });
  }

  function refuseAction(req: DashboardRequest<Req>): DashboardReply | undefined {
    if (settings.readOnly) {
      return errorReply(403, 'ReadOnly', settings.authorize ? 'this dashboard is read-only (readOnly: true)' : 'this dashboard is read-only: pass authorize to allow actions');
    }
    return checkSameOrigin(settings, req);
  }

  async function bulk(req: DashboardRequest<Req>, action: string | undefined, length: number): Promise<DashboardReply> {
    if (length === 1) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(req.method, 'GET');
      const q = parseQuery(bulkPreviewSchema, req.query);
      if (!q.ok) return q.reply;
      const { action: what, ...filter } = q.value;
      return jsonReply(200, await previewBulk(invoker, filter, what, settings.maxBulk));
    }
    const parsedAction = bulkActionSchema.safeParse(action);
    if (length !== 2 || !parsedAction.success) return notFound();
    if (req.method !== 'POST') return methodNotAllowed(req.method, 'POST');
    const refused = refuseAction(req);
    if (refused) return refused;
    const q = parseQuery(bulkRunSchema, req.query);
    if (!q.ok) return q.reply;
    const { max, ...filter } = q.value;
    return jsonReply(200, await runBulk(invoker, filter, parsedAction.data, Math.min(max, settings.maxBulk), report));
  }

  function openLive(query: string): DashboardReply {
    const q = parseQuery(liveQuerySchema, query);
    if (!q.ok) return q.reply;
    const topic = liveTopic(q.value);
    if (!topic) return errorReply(400, 'InvalidQuery', 'topic=invocation needs requestId', { parameter: 'requestId' });
    const stream = live.open(topic);
    if (!stream) return errorReply(503, 'TooManyConnections', 'too many live connections to this dashboard; try again later', {}, { 'retry-after': '5' });
    return {
      status: 200,
      headers: {
        ...SECURITY_HEADERS,
        'content-type': 'text/event-stream; charset=utf-8',
        // no-transform: compression middleware must not buffer the stream.
        'cache-control': 'no-store, no-transform',
        'x-accel-buffering': 'no',
      },
      stream,
    };
  }

  function liveTopic(q: LiveQuery): Topic | undefined {
    const { topic, ...rest } = q;
    if (topic === 'overview') return { key: 'overview', read: () => readOverview(invoker) };
    if (topic === 'list') {
      // Same filter, same page: one poll. The key lists the parameters in a fixed order.
      const key = `list:${JSON.stringify(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
      return { key, read: () => listSummaries(invoker, rest) };
    }
    const requestId = rest.requestId;
    if (requestId === undefined) return undefined;
    let logCursor = 0;
    return {
      key: `invocation:${requestId}`,
      requestId,
      read: async () => {
        const record = await invoker.getInvocation(requestId);
        if (!record) return { notFound: true };
        // The page fetches the lines itself; the stream only says how far the log goes.
        const logs = await invoker.getInvocationLogs(requestId, { after: logCursor, limit: 1000 });
        logCursor = logs.nextCursor;
        return { ...detail(record), logCursor };
      },
    };
  }

  function toReply(error: unknown): DashboardReply {
    if (error instanceof InvocationNotFoundError) return invocationNotFound();
    if (error instanceof InvocationNotFinalError) {
      return errorReply(409, 'InvocationNotFinal', `only a finished invocation can be re-run; this one is ${error.status}`, { status: error.status });
    }
    // The routes validate their input first: what the invoker still refuses is named, not explained.
    if (error instanceof InvalidArgumentError) return errorReply(400, 'InvalidArgument', `invalid ${error.field}`);
    if (error instanceof InvokerClosedError) return errorReply(503, 'InvokerClosed', 'the server is shutting down');
    report(error);
    return errorReply(500, 'InternalError', 'the dashboard could not handle the request');
  }

  return {
    async handle(req) {
      if (!isOwnPath(req.path)) return undefined;
      try {
        if (req.query.length > MAX_QUERY_LENGTH) return errorReply(414, 'QueryTooLong', `query strings are limited to ${MAX_QUERY_LENGTH} characters`);
        const refused = await checkAccess(settings, req);
        if (refused) return refused;
        return await route(req);
      } catch (error) {
        return toReply(error);
      }
    },
  };
}

function invocationNotFound(): DashboardReply {
  return errorReply(404, 'InvocationNotFound', 'no invocation with that request id');
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
