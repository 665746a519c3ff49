/**
 * `async-invoker/fastify`: the HTTP trigger and task API as Fastify plugins.
 *
 *   await app.register(asyncTrigger, { invoker, maxAsyncRetryAttempts: 2 });
 *   await app.register(taskRoutes, { invoker, prefix: '/admin', authorize: (request) => ... });
 *
 * Type imports only: nothing here loads fastify at run time (it is an optional peer dependency).
 *
 * @module async-invoker/fastify
 */
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidArgumentError } from '../errors.js';
import type { Invoker } from '../invoker.js';
import { nodeRequest } from './node-request.js';
import type { TriggerOptions } from './options.js';
import { injectReplay } from './replay.js';
import { replyText } from './reply.js';
import { createTaskRouter } from './tasks.js';
import { createTriggerCore } from './trigger.js';
import type { AuthorizeResult, Reply } from './types.js';

export * from './exports.js';

export interface FastifyTriggerOptions extends TriggerOptions {
  /** The invoker that stores the accepted requests and runs their replays. */
  readonly invoker: Invoker;
}

export interface FastifyTaskRoutesOptions {
  readonly invoker: Invoker;
  /**
   * Decides whether a task API request may proceed. The task API is OPEN when this is not
   * given: register it inside your authenticated scope, or pass this hook.
   * @default every request is allowed
   */
  readonly authorize?: (request: FastifyRequest) => AuthorizeResult | Promise<AuthorizeResult>;
  /**
   * Fastify's own register option: the routes live under it (`/admin` serves `/admin/invocations`).
   * @default ''
   */
  readonly prefix?: string;
}

// fastify-plugin's markers, set by hand so this file needs nothing from fastify at run time.
// `skip-override` lets the trigger's hook reach every route of the app, not only the plugin's scope.
const SKIP_OVERRIDE = Symbol.for('skip-override');
const DISPLAY_NAME = Symbol.for('fastify.display-name');

/**
 * Accepts `X-Fc-Invocation-Type: Async` requests in an `onRequest` hook, before Fastify reads or
 * parses the body (the core reads it raw from `request.raw`), and answers 202 + `X-Fc-Request-Id`.
 * Every other request goes on through Fastify untouched.
 *
 * Replays go through the core's light-my-request replay into `fastify.routing`, the very handler
 * Fastify's own `inject()` calls once the app is ready. The core's replay rather than `inject()`:
 * it marks the request for `getReplayContext`, aborts it with the attempt's signal and treats a 5xx
 * the same way as every other node adapter; and an app that is closing answers 503 (a retry)
 * where `inject()` would throw. Hooks, parsers and the 404 handler all run as for a real request.
 */
export const asyncTrigger: FastifyPluginCallback<FastifyTriggerOptions> = Object.assign(
  function asyncTrigger(fastify: FastifyInstance, options: FastifyTriggerOptions, done: (error?: Error) => void): void {
    try {
      const { invoker, ...rest } = options ?? ({} as FastifyTriggerOptions);
      assertInvoker(invoker);
      const core = createTriggerCore(invoker, rest, injectReplay(() => (req, res) => fastify.routing(req, res)));
      fastify.addHook('onRequest', (request, reply, next) => {
        const req = nodeRequest(request.raw);
        const kind = core.classify(req);
        if (kind === undefined) return next();
        // Answered here: `next` is not called, so Fastify runs nothing else for this request.
        if (kind !== 'async') return void send(reply, kind);
        void core.accept(req).then((answer) => send(reply, answer));
      });
      done();
    } catch (error) {
      done(error instanceof Error ? error : new Error(String(error)));
    }
  },
  { [SKIP_OVERRIDE]: true, [DISPLAY_NAME]: 'async-invoker-trigger' },
);

/**
 * The task API (list, get, stop, rerun) as routes under the plugin's `prefix`. Encapsulated: its
 * catch-all body parser (the routes read no body, as in every adapter) stays inside it.
 */
export const taskRoutes: FastifyPluginCallback<FastifyTaskRoutesOptions> = Object.assign(
  function taskRoutes(fastify: FastifyInstance, options: FastifyTaskRoutesOptions, done: (error?: Error) => void): void {
    try {
      const { invoker, authorize } = options ?? ({} as FastifyTaskRoutesOptions);
      assertInvoker(invoker);
      const router = createTaskRouter<FastifyRequest>(invoker, { authorize, basePath: fastify.prefix });
      fastify.removeAllContentTypeParsers();
      fastify.addContentTypeParser('*', (_request, _payload, parsed) => parsed(null));
      const handler = async (request: FastifyRequest, reply: FastifyReply) => {
        const answer = await router.handle(request, request.method, request.url);
        if (!answer) return reply.callNotFound();
        return send(reply, answer);
      };
      fastify.all('/invocations', handler);
      fastify.all('/invocations/*', handler);
      done();
    } catch (error) {
      done(error instanceof Error ? error : new Error(String(error)));
    }
  },
  { [DISPLAY_NAME]: 'async-invoker-task-routes' },
);

function assertInvoker(invoker: unknown): asserts invoker is Invoker {
  if (typeof (invoker as Partial<Invoker> | undefined)?.invokeAsync !== 'function') {
    throw new InvalidArgumentError('options.invoker', invoker, 'the invoker, e.g. app.register(asyncTrigger, { invoker })');
  }
}

function send(reply: FastifyReply, answer: Reply): FastifyReply {
  // A string with a JSON content type is sent as is: the same bytes as every other adapter.
  return reply.code(answer.status).headers(answer.headers).send(replyText(answer));
}

/** The dashboard (see the README, "Dashboard"): pages, live updates and actions over this invoker. */
export { dashboard, type FastifyDashboardOptions } from '../dashboard/adapters/fastify.js';
export type { DashboardOptions } from '../dashboard/types.js';
