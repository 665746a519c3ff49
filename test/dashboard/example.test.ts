/** examples/express/server.js mounts the dashboard at /jobs behind its admin token (run from dist/, as npm test builds first). */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { waitFor } from '../helpers.js';

const root = resolve(import.meta.dirname, '../..');
const cwd = mkdtempSync(join(tmpdir(), 'ai-dashboard-example-'));
const child = spawn(process.execPath, [join(root, 'examples/express/server.js')], {
  cwd,
  env: { ...process.env, PORT: '0', ADMIN_TOKEN: 'test-token' },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let output = '';
child.stdout.on('data', (d: Buffer) => (output += d.toString()));
child.stderr.on('data', (d: Buffer) => (output += d.toString()));

afterAll(async () => {
  if (child.exitCode === null) {
    await new Promise((done) => {
      child.once('exit', done);
      child.kill('SIGTERM');
    });
  }
  rmSync(cwd, { recursive: true, force: true });
});

it('serves the dashboard at /jobs to the admin cookie only, with the uploads it accepted', async () => {
  let url = '';
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`the example exited early:\n${output}`);
      url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? '';
      return url !== '';
    },
    { timeoutMs: 15_000, intervalMs: 20, what: 'the example to listen' },
  );
  const upload = await fetch(`${url}/videos/cat/transcode`, {
    method: 'POST',
    headers: { 'X-Fc-Invocation-Type': 'Async', 'content-type': 'application/octet-stream' },
    body: 'fake video bytes',
  });
  const { requestId } = (await upload.json()) as { requestId: string };
  expect((await fetch(`${url}/jobs/`)).status).toBe(401);
  expect((await fetch(`${url}/jobs/`, { headers: { cookie: 'admin_token=wrong' } })).status).toBe(403);
  const cookie = { cookie: 'admin_token=test-token' };
  const page = await fetch(`${url}/jobs/`, { headers: cookie });
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('assets/app.js');
  const list = (await (await fetch(`${url}/jobs/api/invocations?functionName=transcode`, { headers: cookie })).json()) as { items: { requestId: string }[] };
  expect(list.items.map((i) => i.requestId)).toContain(requestId);
});
