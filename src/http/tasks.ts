/**
 * The task API's routing on plain values (method, path, query), shared by every adapter:
 *   GET  /invocations                      list (functionName, status, since, until, limit, cursor)
 *   GET  /invocations/:requestId           one task record
 *   POST /invocations/:requestId/stop      stop it
 *   POST /invocations/:requestId/rerun     run its payload again under a new requestId
 */
import { InvalidArgumentError, InvocationNotFoundError, InvokerClosedError } from '../errors.js';
import type { Invoker } from '../invoker.js';
import type { ListInvocationsOptions } from '../options.js';
import type { InvocationStatus } from '../types.js';
import { closedReply, internalError } from './failure.js';
import { REQUEST_ID_HEADER } from './headers.js';
import { errorReply, jsonReply } from './reply.js';
import type { AuthorizeResult, Reply, TaskRoutesOptions } from './types.js';

export interface TaskRouter<Req> {
  /**
   * The reply for a task API request, or `undefined` when the path is not one of the routes.
   * Never rejects: an unexpected failure (of `authorize` too) is a 500 and an `error` event.
   */
  handle(req: Req, method: string, url: string): Promise<Reply | undefined>;
}

const INTEGER_PARAMS = new Set(['since', 'until', 'limit']);

export function createTaskRouter<Req>(invoker: Invoker, options: TaskRoutesOptions<Req> = {}): TaskRouter<Req> {
  const base = normalizeBase(options.basePath);
  const authorize = options.authorize;
  if (authorize !== undefined && typeof authorize !== 'function') {
    throw new InvalidArgumentError('options.authorize', authorize, 'a function (req) => boolean | 401 | 403, or a promise of one');
  }
  return {
    async handle(req, method, url) {
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      if (path !== base + '/invocations' && !path.startsWith(base + '/invocations/')) return undefined;
      const route = path.slice(base.length + '/invocations'.length).split('/').filter(Boolean);
      if (route.length > 2 || (route.length === 2 && route[1] !== 'stop' && route[1] !== 'rerun')) return undefined;
      try {
        return await answer(invoker, authorize, req, method, route, q === -1 ? '' : url.slice(q + 1));
      } catch (error) {
        return errorToReply(invoker, error);
      }
    },
  };
}

async function answer<Req>(
  invoker: Invoker,
  authorize: TaskRoutesOptions<Req>['authorize'],
  req: Req,
  method: string,
  route: readonly string[],
  query: string,
): Promise<Reply> {
  if (authorize) {
    const verdict: AuthorizeResult = await authorize(req);
    if (verdict !== true) {
      return verdict === 401
        ? errorReply(401, 'Unauthorized', 'authentication is required for the task API')
        : errorReply(403, 'Forbidden', 'not allowed to use the task API');
    }
  }
  const wanted = route.length === 2 ? 'POST' : 'GET';
  if (method !== wanted && !(wanted === 'GET' && method === 'HEAD')) {
    return errorReply(405, 'MethodNotAllowed', `${method} is not allowed here; use ${wanted}`, {}, { allow: wanted });
  }
  if (route.length === 0) return jsonReply(200, await invoker.listInvocations(listOptions(query)));
  const requestId = decodeSegment(route[0]!);
  if (route.length === 1) {
    const record = await invoker.getInvocation(requestId);
    return record ? jsonReply(200, record) : notFound(requestId);
  }
  if (route[1] === 'stop') return jsonReply(200, { ...(await invoker.stopInvocation(requestId)) });
  const { requestId: newId } = await invoker.rerunInvocation(requestId);
  return jsonReply(202, { requestId: newId, rerunOf: requestId }, { [REQUEST_ID_HEADER]: newId });
}

function normalizeBase(basePath: unknown): string {
  if (basePath === undefined || basePath === '' || basePath === '/') return '';
  if (typeof basePath !== 'string' || !basePath.startsWith('/')) {
    throw new InvalidArgumentError('options.basePath', basePath, "a path starting with '/', e.g. '/admin'");
  }
  return basePath.replace(/\/+$/, '');
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Query text → listInvocations options. Values stay strings unless they look like integers, so
 * a bad value reaches the core's validation and comes back as a 400 naming it.
 */
function listOptions(query: string): ListInvocationsOptions {
  const out: Record<string, unknown> = {};
  const params = new URLSearchParams(query);
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    if (key === 'status') {
      const statuses = values.flatMap((v) => v.split(',')).filter(Boolean) as InvocationStatus[];
      out.status = statuses.length === 1 ? statuses[0] : statuses;
    } else if (INTEGER_PARAMS.has(key)) {
      const v = values[0]!;
      out[key] = /^-?\d{1,16}$/.test(v) ? Number(v) : v;
    } else {
      out[key] = values[0];
    }
  }
  return out as ListInvocationsOptions;
}

function notFound(requestId: string): Reply {
  return errorReply(404, 'InvocationNotFound', `no invocation with requestId ${JSON.stringify(requestId)}`, { requestId });
}

function errorToReply(invoker: Invoker, error: unknown): Reply {
  if (error instanceof InvocationNotFoundError) return notFound(error.requestId);
  if (error instanceof InvalidArgumentError) {
    // Fields arrive as `options.limit` or `requestId`; the client knows them as query parameters.
    const param = error.field.replace(/^options\./, '');
    return errorReply(400, 'InvalidArgument', error.message.replace(error.field, param), {
      parameter: param,
      value: typeof error.value === 'string' || typeof error.value === 'number' ? error.value : String(error.value),
      allowed: error.allowed,
    });
  }
  if (error instanceof InvokerClosedError) return closedReply();
  return internalError(invoker, error, 'http:tasks');
}
