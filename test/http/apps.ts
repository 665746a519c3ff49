/**
 * The same small app built on Express 5, Koa 3 and node:http, so one suite drives all three.
 * Routes record what they saw in `calls` (the side effect the tests check).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Koa from 'koa';
import Router from '@koa/router';
import type { Invoker } from '../../src/index.js';
import * as ex from '../../src/http/express.js';
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

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
