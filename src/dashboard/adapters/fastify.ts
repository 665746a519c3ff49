/** The dashboard as a Fastify plugin: `app.register(dashboard, { invoker, prefix: '/jobs' })`. */
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidArgumentError } from '../../errors.js';
import type { Invoker } from '../../invoker.js';
import { createDashboardCore } from '../core.js';
import { isStream, type DashboardOptions } from '../types.js';
import { nodeRequest, splitUrl, underBase, writeNode } from './node-io.js';

export interface FastifyDashboardOptions extends DashboardOptions<FastifyRequest> {
  readonly invoker: Invoker;
  /** Fastify's own register option: the dashboard lives under it. @default '' */
  readonly prefix?: string;
}

const DISPLAY_NAME = Symbol.for('fastify.display-name');

/** Encapsulated: its catch-all body parser (the dashboard reads no body) stays inside it. */
export const dashboard: FastifyPluginCallback<FastifyDashboardOptions> = Object.assign(
  function dashboard(fastify: FastifyInstance, options: FastifyDashboardOptions, done: (error?: Error) => void): void {
    try {
      const { invoker, prefix: _prefix, ...rest } = options ?? ({} as FastifyDashboardOptions);
      if (typeof (invoker as Partial<Invoker> | undefined)?.listInvocations !== 'function') {
        throw new InvalidArgumentError('options.invoker', invoker, 'the invoker, e.g. app.register(dashboard, { invoker, prefix: "/jobs" })');
      }
      const core = createDashboardCore<FastifyRequest>(invoker, rest);
      fastify.removeAllContentTypeParsers();
      fastify.addContentTypeParser('*', (_request, _payload, parsed) => parsed(null));
      const handler = async (request: FastifyRequest, reply: FastifyReply) => {
        const [clientPath, query] = splitUrl(request.url);
        const path = underBase(clientPath, fastify.prefix) ?? clientPath;
        const answer = await core.handle(nodeRequest(request, request.raw, path, query, clientPath));
        if (!answer) return reply.callNotFound();
        if (isStream(answer)) {
          reply.hijack();
          writeNode(request.raw, reply.raw, answer);
          return reply;
        }
        return reply.code(answer.status).headers(answer.headers).send(answer.body);
      };
      fastify.all('/', handler);
      fastify.all('/*', handler);
      done();
    } catch (error) {
      done(error instanceof Error ? error : new Error(String(error)));
    }
  },
  { [DISPLAY_NAME]: 'async-invoker-dashboard' },
);
