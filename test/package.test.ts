/**
 * The package as users get it: `npm pack` of the build, publint and arethetypeswrong
 * (`--profile esm-only`), and a new TypeScript project that installs the tarball and compiles
 * an ordinary app under `--strict`, once with `module: nodenext` and once with bundler
 * resolution. The consumer's dependencies are linked from this repository's node_modules (no
 * network); the optional drivers' `@types` packages are deliberately absent.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const dir = mkdtempSync(join(tmpdir(), 'async-invoker-package-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let tarball = '';

/** What an app that uses the package links in: its runtime dependencies and the frameworks' types. */
const LINKED = [
  'zod', 'eventemitter3', 'p-queue', 'nanoid', '@types/node', 'express', '@types/express', 'koa', '@types/koa',
  'ioredis', 'fastify', 'hono', '@hono/node-server', 'light-my-request',
];

const APP = `
import { createInvoker, memoryStore, type Invoker, type JsonValue } from 'async-invoker';
import { sqliteStore } from 'async-invoker/sqlite';
import { redisStore } from 'async-invoker/redis';
import { postgresStore } from 'async-invoker/postgres';
import * as onExpress from 'async-invoker/express';
import * as onKoa from 'async-invoker/koa';
import * as onNode from 'async-invoker/http';
import * as onFastify from 'async-invoker/fastify';
import * as onFetch from 'async-invoker/fetch';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { fakeClock } from 'async-invoker/testing';
import express from 'express';
import Koa from 'koa';
import { createServer } from 'node:http';
import { z } from 'zod';

// Interface payloads, a zod schema, and a typed invoker.
interface Email { to: string; subject: string; tags?: string[] }
const video = z.object({ url: z.string(), quality: z.enum(['sd', 'hd']).default('sd') });
interface Functions {
  email: { payload: Email; result: { sent: boolean } };
  transcode: { payload: z.input<typeof video>; result: string };
}

export async function main(): Promise<void> {
  const stores = [memoryStore(), sqliteStore({ path: './jobs.db' }), redisStore({ url: 'redis://127.0.0.1:6379' }), postgresStore({ connectionString: 'postgres://127.0.0.1/test' })];
  const invoker = createInvoker<Functions>({ store: stores[0]!, clock: fakeClock() });
  invoker.register('email', async (payload, ctx) => ({ sent: payload.to.length > 0 && ctx.attempt > 0 }));
  invoker.register('transcode', (payload) => payload.quality, { payload: video, maxAsyncRetryAttempts: 2 });
  const { requestId } = await invoker.invokeAsync('email', { to: 'a@example.com', subject: 'hi' });
  const record = await invoker.getInvocation(requestId);
  const status: string | undefined = record?.status;
  const untyped = createInvoker({ store: stores[1]! });
  untyped.register('anything', (payload: Email) => payload.subject);
  const value: JsonValue = await untyped.invoke('anything', { to: 'x', subject: 'y' });

  const app = express();
  app.use(onExpress.asyncTrigger(untyped, { app }));
  app.use('/admin', onExpress.taskRoutes(untyped, { authorize: (req) => req.get('x-admin') === 'yes' }));
  const koa = new Koa();
  koa.use(onKoa.asyncTrigger(untyped, { app: koa }));
  koa.use(onKoa.taskRoutes(untyped, { authorize: (ctx) => ctx.state.user?.admin === true }));
  createServer(onNode.asyncTrigger(untyped, { handler: (_req, res) => res.end('ok') }));
  const fastify = Fastify();
  await fastify.register(onFastify.asyncTrigger, { invoker: untyped });
  await fastify.register(onFastify.taskRoutes, { invoker: untyped, prefix: '/admin', authorize: (request) => request.headers['x-admin'] === 'yes' });
  const hono = new Hono();
  hono.post('/upload', (c) => c.json({ ok: true }));
  const handler: (request: Request) => Promise<Response> = onFetch.asyncTrigger(untyped, { fetch: hono.fetch });
  const tasks = onFetch.taskRoutes(untyped, { authorize: (request) => request.headers.get('x-admin') === 'yes' });
  // A typed invoker goes wherever an invoker does.
  app.use(onExpress.taskRoutes(invoker));
  const takesAny = (i: Invoker): Invoker => i;
  void [status, value, takesAny(untyped), handler, tasks];
}
`;

/** Every entry point, imported by a file that uses nothing else: our declarations alone. */
const DECLARATIONS = `
export * as core from 'async-invoker';
export * as sqlite from 'async-invoker/sqlite';
export * as redis from 'async-invoker/redis';
export * as postgres from 'async-invoker/postgres';
export * as express from 'async-invoker/express';
export * as http from 'async-invoker/http';
export * as fastify from 'async-invoker/fastify';
export * as fetch from 'async-invoker/fetch';
export * as testing from 'async-invoker/testing';
`;
// async-invoker/koa is checked by the app only: @types/koa itself fails a full check today
// (it reads an Options type content-disposition 1.x no longer declares).

/**
 * The app is checked as apps are (skipLibCheck: frameworks' own types are theirs to keep
 * right); our declarations are checked in full, by a file that imports only them.
 */
function tsconfig(module: 'nodenext' | 'bundler', file: string, skipLibCheck: boolean): object {
  return {
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: 'ES2022',
      lib: ['ES2023'],
      types: ['node'],
      module: module === 'nodenext' ? 'NodeNext' : 'ESNext',
      moduleResolution: module === 'nodenext' ? 'NodeNext' : 'Bundler',
      skipLibCheck,
    },
    files: [file],
  };
}

describe('the packed package', () => {
  beforeAll(async () => {
    if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('run npm run build first');
    // --ignore-scripts: dist/ is already built by `npm test`; packing must not rebuild it.
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: root });
    tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!);
  }, 60_000);

  it('passes publint (strict)', async () => {
    const { stdout } = await run(bin('publint'), ['run', tarball, '--strict'], { cwd: root });
    expect(stdout).toContain('All good');
  }, 60_000);

  it('passes arethetypeswrong with the esm-only profile', async () => {
    await run(bin('attw'), [tarball, '--profile', 'esm-only', '--format', 'ascii'], { cwd: root });
  }, 60_000);

  it('ships no source maps and no sources, and has a LICENSE', async () => {
    const { stdout } = await run('tar', ['tzf', tarball]);
    const files = stdout.split('\n').filter(Boolean);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('package/src/'))).toEqual([]);
    expect(files).toContain('package/LICENSE');
  });

  it.each(['nodenext', 'bundler'] as const)('compiles an app that uses it under --strict with %s resolution', async (module) => {
    const project = join(dir, `consumer-${module}`);
    const modules = join(project, 'node_modules');
    mkdirSync(join(modules, '@types'), { recursive: true });
    mkdirSync(join(modules, '@hono'), { recursive: true });
    await run('tar', ['xzf', tarball, '-C', project]);
    cpSync(join(project, 'package'), join(modules, 'async-invoker'), { recursive: true });
    rmSync(join(project, 'package'), { recursive: true });
    for (const name of LINKED) {
      const source = join(root, 'node_modules', name);
      if (existsSync(source)) symlinkSync(source, join(modules, name));
    }
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
    writeFileSync(join(project, 'app.ts'), APP);
    writeFileSync(join(project, 'declarations.ts'), DECLARATIONS);
    writeFileSync(join(project, 'tsconfig.app.json'), JSON.stringify(tsconfig(module, 'app.ts', true), null, 2));
    writeFileSync(join(project, 'tsconfig.declarations.json'), JSON.stringify(tsconfig(module, 'declarations.ts', false), null, 2));
    const check = (config: string) =>
      run(bin('tsc'), ['-p', join(project, config)], { cwd: project }).then(
        () => '',
        (error: { stdout?: string }) => error.stdout ?? String(error),
      );
    const [app, declarations] = await Promise.all([check('tsconfig.app.json'), check('tsconfig.declarations.json')]);
    expect(app, 'the app').toBe('');
    expect(declarations, 'our declarations, without @types/better-sqlite3 or @types/pg').toBe('');
  }, 120_000);
});
