/**
 * The dashboard mounted under `/jobs` on a real HTTP server on 127.0.0.1, with each adapter:
 * Express, Koa, node:http, Fastify and fetch (Hono's node server). One suite drives them all.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { createAdaptorServer } from '@hono/node-server';
import type { Invoker } from '../../src/index.js';
import * as ex from '../../src/http/express.js';
import * as fa from '../../src/http/fastify.js';
import * as fe from '../../src/http/fetch.js';
import * as ko from '../../src/http/koa.js';
import * as nd from '../../src/http/node.js';
import type { AuthorizeResult } from '../../src/http/types.js';

export interface Mounted {
  /** `http://127.0.0.1:port/jobs/` */
  readonly url: string;
  readonly origin: string;
  close(): Promise<void>;
}

export interface MountOptions {
  /** Authorize by the `x-token` header: none → 401, `yes` → allowed, other → 403. Unset: no authorize option. */
  readonly token?: boolean;
  readonly readOnly?: boolean;
}

export type Mount = (invoker: Invoker, options: MountOptions) => Promise<Mounted>;

export function tokenVerdict(value: string | null | undefined): AuthorizeResult {
  return value === undefined || value === null ? 401 : value === 'yes';
}

async function listen(server: Server): Promise<Mounted> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/jobs/`,
    origin,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

const header = (req: IncomingMessage) => req.headers['x-token'] as string | undefined;

export const expressMount: Mount = async (invoker, o) => {
  const app = express();
  app.use('/jobs', ex.dashboard(invoker, { ...(o.token ? { authorize: (req) => tokenVerdict(header(req)) } : {}), ...(o.readOnly ? { readOnly: true } : {}) }));
  app.get('/other', (_req, res) => void res.send('app'));
  return listen(createServer(app));
};

export const koaMount: Mount = async (invoker, o) => {
  const app = new Koa();
  app.use(ko.dashboard(invoker, { basePath: '/jobs', ...(o.token ? { authorize: (ctx) => tokenVerdict(header(ctx.req)) } : {}), ...(o.readOnly ? { readOnly: true } : {}) }));
  app.use((ctx) => {
    if (ctx.path === '/other') ctx.body = 'app';
  });
  return listen(createServer(app.callback()));
};

export const nodeMount: Mount = async (invoker, o) => {
  const handler = nd.dashboard(invoker, { basePath: '/jobs', ...(o.token ? { authorize: (req) => tokenVerdict(header(req)) } : {}), ...(o.readOnly ? { readOnly: true } : {}) });
  return listen(
    createServer((req, res) =>
      handler(req, res, () => {
        res.end(req.url === '/other' ? 'app' : 'not found');
      }),
    ),
  );
};

export const fastifyMount: Mount = async (invoker, o) => {
  const app = Fastify();
  await app.register(fa.dashboard, { invoker, prefix: '/jobs', ...(o.token ? { authorize: (request) => tokenVerdict(header(request.raw)) } : {}), ...(o.readOnly ? { readOnly: true } : {}) });
  app.get('/other', async () => 'app');
  await app.ready();
  return listen(app.server);
};

export const fetchMount: Mount = async (invoker, o) => {
  const handler = fe.dashboard(invoker, {
    basePath: '/jobs',
    ...(o.token ? { authorize: (request: Request) => tokenVerdict(request.headers.get('x-token')) } : {}),
    ...(o.readOnly ? { readOnly: true } : {}),
  });
  // @hono/node-server passes { incoming, outgoing } after the request: the default clientAddress reads it.
  // The app routes /jobs to the dashboard, as a Hono app would with app.all('/jobs/*', ...).
  const app = (request: Request, env: unknown) =>
    /^\/jobs(\/|$)/.test(new URL(request.url).pathname) ? handler(request, env) : Promise.resolve(new Response('app'));
  return listen(createAdaptorServer({ fetch: app }) as Server);
};

export const MOUNTS: readonly [string, Mount][] = [
  ['express', expressMount],
  ['koa', koaMount],
  ['node', nodeMount],
  ['fastify', fastifyMount],
  ['fetch', fetchMount],
];
