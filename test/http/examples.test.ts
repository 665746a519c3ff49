/**
 * Runs each example app as a child process (from dist/: `npm run build` first, as `npm test`
 * does), sends one async upload and polls the task API until it succeeded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers.js';

const root = resolve(import.meta.dirname, '../..');
const built = ['dist/http/express.js', 'dist/http/fastify.js', 'dist/http/fetch.js', 'dist/stores/sqlite/index.js'].every((file) => existsSync(join(root, file)));

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

async function startExample(script: string, cwd: string): Promise<Started> {
  const child = spawn(process.execPath, [join(root, script)], {
    cwd,
    env: { ...process.env, PORT: '0', ADMIN_TOKEN: 'test-token' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let url: string | undefined;
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`${script} exited early:\n${out}`);
      url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      return url !== undefined;
    },
    { timeoutMs: 15_000, intervalMs: 20, what: `${script} to listen` },
  );
  return { child, url: url!, output: () => out };
}

function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe.skipIf(!built)('examples (run from dist/; skipped until `npm run build`)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });

  it.each([
    ['examples/express/server.js', 'data/async-invoker.db'],
    ['examples/koa/server.js', undefined],
    ['examples/fastify/server.js', 'data/async-invoker.db'],
    ['examples/hono/server.js', 'data/async-invoker.db'],
  ])('%s: an async upload is accepted, transcoded and visible through the task API', async (script, dbFile) => {
    const cwd = mkdtempSync(join(tmpdir(), 'async-invoker-example-'));
    cleanups.push(() => rmSync(cwd, { recursive: true, force: true }));
    const app = await startExample(script, cwd);
    cleanups.push(async () => void (await stop(app.child)));

    const res = await fetch(`${app.url}/videos/cat/transcode?formats=mp4,webm`, {
      method: 'POST',
      headers: { 'X-Fc-Invocation-Type': 'Async', 'content-type': 'application/octet-stream' },
      body: 'fake video bytes',
    });
    expect(res.status).toBe(202);
    const { requestId } = (await res.json()) as { requestId: string };
    const auth = { authorization: 'Bearer test-token' };
    expect((await fetch(`${app.url}/admin/invocations/${requestId}`)).status).toBe(401);

    let record: { status: string; result?: { statusCode: number; body: { renditions: unknown[] } } } | undefined;
    await waitFor(
      async () => {
        record = (await (await fetch(`${app.url}/admin/invocations/${requestId}`, { headers: auth })).json()) as typeof record;
        return record?.status === 'Succeeded';
      },
      { timeoutMs: 15_000, intervalMs: 25, what: `${requestId} to succeed (last: ${record?.status})` },
    );
    expect(record!.result).toMatchObject({ statusCode: 200, body: { video: 'cat', bytes: 16 } });
    expect(record!.result!.body.renditions).toHaveLength(2);
    await waitFor(() => app.output().includes(`transcode ${requestId} done`), { what: 'the onSuccess log line' });
    expect(await stop(app.child)).toBe(0);
    if (dbFile) expect(existsSync(join(cwd, dbFile))).toBe(true);
  });
});
