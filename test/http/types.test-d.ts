/**
 * Type tests, checked by `tsc` (`npm run typecheck`), never run: ordinary code for each adapter
 * must type-check, and misuse must not. Each `@ts-expect-error` fails the check if the line
 * below it compiles.
 */
import express from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import { expectTypeOf } from 'vitest';
import { createInvoker, memoryStore } from '../../src/index.js';
import * as ex from '../../src/http/express.js';
import * as fa from '../../src/http/fastify.js';
import * as fe from '../../src/http/fetch.js';
import * as ko from '../../src/http/koa.js';
import * as nd from '../../src/http/node.js';

const invoker = createInvoker({ store: memoryStore() });

// Express: authorize gets Express's own Request (req.get, req.query, ...).
const app = express();
app.use(ex.asyncTrigger(invoker, { app }));
app.use('/admin', ex.taskRoutes(invoker, { authorize: (req) => req.get('x-admin') === 'yes' }));
app.use(ex.taskRoutes(invoker, { authorize: async (req) => (req.query.token ? true : 401) }));
ex.taskRoutes(invoker, { authorize: (req) => expectTypeOf(req).toEqualTypeOf<express.Request>() === undefined });
// @ts-expect-error authorize answers true, false, 401 or 403
ex.taskRoutes(invoker, { authorize: () => 'yes' });
// @ts-expect-error the app is required
ex.asyncTrigger(invoker, {});

// Koa: authorize gets Koa's context, with ctx.state (any by default, typed when the app is).
const koa = new Koa();
koa.use(ko.asyncTrigger(invoker, { app: koa }));
koa.use(ko.taskRoutes(invoker, { authorize: (ctx) => ctx.state.user?.admin === true }));
koa.use(ko.taskRoutes(invoker, { basePath: '/admin', authorize: (ctx) => ctx.get('x-admin') === 'yes' }));
interface State {
  user?: { admin: boolean };
}
const typed = new Koa<State>();
typed.use(ko.taskRoutes<Koa.ParameterizedContext<State>>(invoker, { authorize: (ctx) => ctx.state.user?.admin === true }));
// @ts-expect-error a typed state is checked: there is no `role`
ko.taskRoutes<Koa.ParameterizedContext<State>>(invoker, { authorize: (ctx) => ctx.state.user?.role === 'admin' });

// Fastify: plugins registered with their options; authorize gets Fastify's request.
const fastify = Fastify();
void fastify.register(fa.asyncTrigger, { invoker, maxAsyncRetryAttempts: 2, functionName: 'web' });
void fastify.register(fa.taskRoutes, {
  invoker,
  prefix: '/admin',
  authorize: (request) => expectTypeOf(request).toEqualTypeOf<FastifyRequest>() === undefined || request.headers['x-admin'] === 'yes',
});
// @ts-expect-error the invoker is required
void fastify.register(fa.asyncTrigger, { maxAsyncRetryAttempts: 2 });
// @ts-expect-error an unknown option
void fastify.register(fa.asyncTrigger, { invoker, maxBody: 1 });

// fetch: Hono's app.fetch fits, the result is a fetch handler; authorize gets the Request.
const hono = new Hono();
const handler = fe.asyncTrigger(invoker, { fetch: hono.fetch });
expectTypeOf(handler).toBeCallableWith(new Request('http://localhost/'));
expectTypeOf(handler(new Request('http://localhost/'))).toEqualTypeOf<Promise<Response>>();
const tasks = fe.taskRoutes(invoker, { authorize: (request) => request.headers.get('x-admin') === 'yes' });
hono.all('/admin/*', (c) => tasks(c.req.raw));
fe.asyncTrigger(invoker, { fetch: () => new Response('ok') });
// @ts-expect-error a handler that needs a second argument cannot be replayed (replays pass the request alone)
fe.asyncTrigger(invoker, { fetch: (request: Request, server: { upgrade(): void }) => new Response(request.url + String(server)) });

// node:http: unchanged, authorize gets the IncomingMessage.
nd.taskRoutes(invoker, { authorize: (req) => req.headers['x-admin'] === 'yes' });

// getReplayContext takes each framework's request object.
app.use((req, _res, next) => next(ex.getReplayContext(req) ? undefined : undefined));
koa.use(async (ctx, next) => void (ko.getReplayContext(ctx) ?? (await next())));
fastify.addHook('onRequest', async (request) => void fa.getReplayContext(request));
hono.use(async (c, next) => void (fe.getReplayContext(c.req) ?? (await next())));
