/**
 * The same small app built on Express 5, Koa 3, node:http, Fastify 5 and Hono (fetch, on
 * @hono/node-server), so one suite drives them all. Routes record what they saw in `calls` (the
 * side effect the tests check).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { createAdaptorServer } from '@hono/node-server';
import Koa from 'koa';
import Router from '@koa/router';
import type { Invoker } from '../../src/index.js';
import * as ex from '../../src/http/express.js';
import * as fa from '../../src/http/fastify.js';
import * as fe from '../../src/http/fetch.js';
import * as ko from '../../src/http/koa.js';
import * as nd from '../../src/http/node.js';
import type { AuthorizeResult, ReplayContext, TriggerOptions } from '../../src/http/express.js';

export interface Call {
  readonly route: string;
  readonly query: Record<string, string>;
  readonly body: unknown;
  readonly requestIdHeader: string | undefined;
  readonly replayOf: string | undefined;
}

export interface AppOptions {
  /** Mount asyncTrigger (false: the same app without it, to compare pass-through). */
  readonly trigger: boolean;
  readonly calls: Call[];
  readonly triggerOptions?: TriggerOptions;
}

export interface Running {
  readonly url: string;
  close(): Promise<void>;
}

export type AppFactory = (invoker: Invoker, options: AppOptions) => Promise<Running>;

/** The task API's hook in every app: no x-admin header → 401, a wrong one → 403. */
export function authorizeToken(token: string | string[] | null | undefined): AuthorizeResult {
  return token === undefined || token === null ? 401 : token === 'yes';
}
export const authorize = (req: IncomingMessage): AuthorizeResult => authorizeToken(req.headers['x-admin']);

const sha = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');
const flaky = new Map<string, number>();
function flakyStatus(key: string, fails: number): number {
  const n = (flaky.get(key) ?? 0) + 1;
  flaky.set(key, n);
  return n <= fails ? 503 : 200;
}

async function listen(server: Server): Promise<Running> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function call(route: string, req: IncomingMessage, query: Record<string, string>, body: unknown): Call {
  const id = req.headers['x-fc-request-id'];
  return seen(route, typeof id === 'string' ? id : undefined, ex.getReplayContext(req), query, body);
}

function seen(route: string, requestIdHeader: string | undefined, replay: ReplayContext | undefined, query: Record<string, string>, body: unknown): Call {
  return { route, query, body, requestIdHeader, replayOf: replay?.requestId };
}

export const expressApp: AppFactory = async (invoker, { trigger, calls, triggerOptions }) => {
  const app = express();
  if (trigger) app.use(ex.asyncTrigger(invoker, { app, ...triggerOptions }));
  app.use('/admin', ex.taskRoutes(invoker, { authorize }));
  app.post('/upload', express.json(), (req, res) => {
    calls.push(call('upload', req, { ...(req.query as Record<string, string>) }, req.body));
    res.json({ ok: true, name: (req.body as { name?: string }).name, format: req.query.format });
  });
  app.post('/raw', express.raw({ type: () => true }), (req, res) => {
    const body = req.body as Buffer;
    calls.push(call('raw', req, {}, body.length));
    res.json({ length: body.length, sha256: sha(body) });
  });
  app.get('/flaky', (req, res) => {
    calls.push(call('flaky', req, { ...(req.query as Record<string, string>) }, null));
    const status = flakyStatus(String(req.query.key), Number(req.query.fails));
    res.status(status).json({ status });
  });
  app.get('/hello', (_req, res) => {
    res.set('x-custom', 'yes').cookie('seen', '1').type('text/plain').send('hello there');
  });
  app.post('/echo', express.text({ type: () => true }), (req, res) => {
    res.status(201).json({ method: req.method, body: req.body, type: req.get('content-type') ?? null, q: req.query });
  });
  return listen(createServer(app));
};

export const koaApp: AppFactory = async (invoker, { trigger, calls, triggerOptions }) => {
  const app = new Koa();
  // Routes are added after the trigger on purpose: the replay must still find them.
  if (trigger) app.use(ko.asyncTrigger(invoker, { app, ...triggerOptions }));
  app.use(ko.taskRoutes(invoker, { basePath: '/admin', authorize: (ctx) => authorize(ctx.req) }));
  const router = new Router();
  router.post('/upload', async (ctx) => {
    const body = JSON.parse((await readAll(ctx.req)).toString('utf8')) as { name?: string };
    calls.push(call('upload', ctx.req, { ...(ctx.query as Record<string, string>) }, body));
    ctx.body = { ok: true, name: body.name, format: ctx.query.format };
  });
  router.post('/raw', async (ctx) => {
    const body = await readAll(ctx.req);
    calls.push(call('raw', ctx.req, {}, body.length));
    ctx.body = { length: body.length, sha256: sha(body) };
  });
  router.get('/flaky', (ctx) => {
    calls.push(call('flaky', ctx.req, { ...(ctx.query as Record<string, string>) }, null));
    const status = flakyStatus(String(ctx.query.key), Number(ctx.query.fails));
    ctx.status = status;
    ctx.body = { status };
  });
  router.get('/hello', (ctx) => {
    ctx.set('x-custom', 'yes');
    ctx.cookies.set('seen', '1');
    ctx.type = 'text/plain';
    ctx.body = 'hello there';
  });
  router.post('/echo', async (ctx) => {
    ctx.status = 201;
    ctx.body = { method: ctx.method, body: (await readAll(ctx.req)).toString('utf8'), type: ctx.get('content-type') || null, q: ctx.query };
  });
  app.use(router.routes());
  return listen(createServer(app.callback()));
};

export const nodeApp: AppFactory = async (invoker, { trigger, calls, triggerOptions }) => {
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const route = `${req.method} ${url.pathname}`;
    if (route === 'POST /upload') {
      const body = JSON.parse((await readAll(req)).toString('utf8')) as { name?: string };
      calls.push(call('upload', req, query, body));
      return send(res, 200, { ok: true, name: body.name, format: query.format });
    }
    if (route === 'POST /raw') {
      const body = await readAll(req);
      calls.push(call('raw', req, {}, body.length));
      return send(res, 200, { length: body.length, sha256: sha(body) });
    }
    if (route === 'GET /flaky') {
      calls.push(call('flaky', req, query, null));
      const status = flakyStatus(String(query.key), Number(query.fails));
      return send(res, status, { status });
    }
    if (route === 'GET /hello') {
      res.writeHead(200, { 'x-custom': 'yes', 'set-cookie': 'seen=1; path=/', 'content-type': 'text/plain' });
      return res.end('hello there');
    }
    if (route === 'POST /echo') {
      const text = (await readAll(req)).toString('utf8');
      return send(res, 201, { method: req.method, body: text, type: req.headers['content-type'] ?? null, q: query });
    }
    send(res, 404, { error: 'not found' });
  };
  const tasks = nd.taskRoutes(invoker, { basePath: '/admin', authorize });
  const app = (req: IncomingMessage, res: ServerResponse) => tasks(req, res, () => void handler(req, res));
  const listener = trigger ? nd.asyncTrigger(invoker, { handler: app, ...triggerOptions }) : app;
  return listen(createServer(listener));
};

export const fastifyApp: AppFactory = async (invoker, { trigger, calls, triggerOptions }) => {
  const app = Fastify();
  if (trigger) await app.register(fa.asyncTrigger, { invoker, ...triggerOptions });
  await app.register(fa.taskRoutes, { invoker, prefix: '/admin', authorize: (request) => authorize(request.raw) });
  // Fastify parses JSON and text itself; everything else arrives as a Buffer.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  const query = (q: unknown) => ({ ...(q as Record<string, string>) });
  app.post('/upload', (request) => {
    const body = request.body as { name?: string };
    calls.push(call('upload', request.raw, query(request.query), body));
    return { ok: true, name: body.name, format: query(request.query).format };
  });
  app.post('/raw', (request) => {
    const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
    calls.push(call('raw', request.raw, {}, body.length));
    return { length: body.length, sha256: sha(body) };
  });
  app.get('/flaky', (request, reply) => {
    const q = query(request.query);
    calls.push(call('flaky', request.raw, q, null));
    const status = flakyStatus(String(q.key), Number(q.fails));
    return reply.code(status).send({ status });
  });
  app.get('/hello', (_request, reply) => {
    return reply.header('x-custom', 'yes').header('set-cookie', 'seen=1; Path=/').type('text/plain').send('hello there');
  });
  app.post('/echo', (request, reply) => {
    const body = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : request.body;
    return reply.code(201).send({ method: request.method, body, type: request.headers['content-type'] ?? null, q: request.query });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
};

export const honoApp: AppFactory = async (invoker, { trigger, calls, triggerOptions }) => {
  const app = new Hono();
  const replayed = (request: Request) => [request.headers.get('x-fc-request-id') ?? undefined, fe.getReplayContext(request)] as const;
  app.post('/upload', async (c) => {
    const body = (await c.req.json()) as { name?: string };
    calls.push(seen('upload', ...replayed(c.req.raw), c.req.query(), body));
    return c.json({ ok: true, name: body.name, format: c.req.query('format') });
  });
  app.post('/raw', async (c) => {
    const body = Buffer.from(await c.req.arrayBuffer());
    calls.push(seen('raw', ...replayed(c.req.raw), {}, body.length));
    return c.json({ length: body.length, sha256: sha(body) });
  });
  app.get('/flaky', (c) => {
    calls.push(seen('flaky', ...replayed(c.req.raw), c.req.query(), null));
    const status = flakyStatus(String(c.req.query('key')), Number(c.req.query('fails')));
    return c.json({ status }, status as 200);
  });
  app.get('/hello', (c) => {
    c.header('x-custom', 'yes');
    c.header('set-cookie', 'seen=1; Path=/');
    return c.text('hello there');
  });
  app.post('/echo', async (c) => {
    return c.json({ method: c.req.method, body: await c.req.text(), type: c.req.header('content-type') ?? null, q: c.req.queries() }, 201);
  });
  const tasks = fe.taskRoutes(invoker, { basePath: '/admin', authorize: (request) => authorizeToken(request.headers.get('x-admin')) });
  app.all('/admin/*', (c) => tasks(c.req.raw));
  const fetch = trigger ? fe.asyncTrigger(invoker, { fetch: app.fetch, ...triggerOptions }) : app.fetch;
  return listen(createAdaptorServer({ fetch, hostname: '127.0.0.1' }) as Server);
};

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
