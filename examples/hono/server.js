// The upload-and-transcode app on Hono, served by @hono/node-server, invocations kept in SQLite
// (./data). The trigger wraps `app.fetch`: async uploads are answered 202 and transcoded in the
// background by calling `app.fetch` again with the recorded request. The same wrapping works for
// any host that takes a fetch handler (Bun.serve, Deno.serve, a Next.js route handler).
//
//   npm run build && node examples/hono/server.js      (PORT and ADMIN_TOKEN from the environment)
import { mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { createInvoker } from 'async-invoker';
import { sqliteStore } from 'async-invoker/sqlite';
import { asyncTrigger, taskRoutes } from 'async-invoker/fetch';

const port = Number(process.env.PORT ?? 3000);
const adminToken = process.env.ADMIN_TOKEN ?? 'change-me';

mkdirSync('./data', { recursive: true });
const invoker = createInvoker({ store: sqliteStore({ path: './data/async-invoker.db' }), concurrency: 4 });

invoker.register('transcode-failed', async (record) => {
  const { requestId, condition, approximateInvokeCount } = record.requestContext;
  console.error(`transcode ${requestId} failed (${condition}) after ${approximateInvokeCount} attempt(s):`, record.responsePayload);
});

const app = new Hono();

app.post('/videos/:name/transcode', async (c) => {
  const body = Buffer.from(await c.req.arrayBuffer());
  // A 4xx is a result, not a failure: no retry.
  if (body.length === 0) return c.json({ error: 'send the video bytes as the body' }, 400);
  const name = c.req.param('name');
  const formats = (c.req.query('formats') ?? 'mp4').split(',');
  await new Promise((resolve) => setTimeout(resolve, 20)); // stands in for real work
  const digest = createHash('sha256').update(body).digest('hex').slice(0, 16);
  return c.json({ video: name, bytes: body.length, renditions: formats.map((format) => ({ format, key: `${name}.${digest}.${format}` })) });
});

app.get('/health', (c) => c.json({ ok: true }));

// The task API is a fetch handler too; open by default, so this app guards it with a bearer token.
const tasks = taskRoutes(invoker, {
  basePath: '/admin',
  authorize: (request) => {
    const auth = request.headers.get('authorization');
    if (!auth) return 401;
    return auth === `Bearer ${adminToken}`;
  },
});
app.all('/admin/*', (c) => tasks(c.req.raw));

const fetch = asyncTrigger(invoker, {
  fetch: app.fetch,
  functionName: 'transcode',
  maxAsyncRetryAttempts: 2,
  timeoutSeconds: 60,
  destinations: {
    onSuccess: async (record) => {
      console.log(`transcode ${record.requestContext.requestId} done:`, JSON.stringify(record.responsePayload.body));
    },
    onFailure: { function: 'transcode-failed' },
  },
});

const server = serve({ fetch, port, hostname: '127.0.0.1' }, (info) => {
  const url = `http://127.0.0.1:${info.port}`;
  console.log(`transcode example (Hono) listening on ${url}`);
  console.log(`  curl -i -X POST '${url}/videos/cat/transcode?formats=mp4,webm' \\
    -H 'X-Fc-Invocation-Type: Async' --data-binary 'fake video bytes'
  curl -s '${url}/admin/invocations/<requestId>' -H 'Authorization: Bearer ${adminToken}'`);
});

let closing = false;
async function shutdown(signal) {
  if (closing) return;
  closing = true;
  console.log(`${signal}: closing`);
  server.close();
  server.closeIdleConnections?.();
  await invoker.close({ timeoutSeconds: 10 });
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
