// The upload-and-transcode app on Fastify 5, invocations kept in SQLite (./data). Uploads sent
// with `X-Fc-Invocation-Type: Async` are answered 202 at once and transcoded in the background;
// the task API shows, stops and reruns them.
//
//   npm run build && node examples/fastify/server.js      (PORT and ADMIN_TOKEN from the environment)
import { mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import { createInvoker } from 'async-invoker';
import { sqliteStore } from 'async-invoker/sqlite';
import { asyncTrigger, taskRoutes } from 'async-invoker/fastify';

const port = Number(process.env.PORT ?? 3000);
const adminToken = process.env.ADMIN_TOKEN ?? 'change-me';

mkdirSync('./data', { recursive: true });
const invoker = createInvoker({ store: sqliteStore({ path: './data/async-invoker.db' }), concurrency: 4 });

invoker.register('transcode-failed', async (record) => {
  const { requestId, condition, approximateInvokeCount } = record.requestContext;
  console.error(`transcode ${requestId} failed (${condition}) after ${approximateInvokeCount} attempt(s):`, record.responsePayload);
});

const app = Fastify();

// An onRequest hook for the whole app: async requests are recorded before Fastify reads the body,
// and replayed into this app later.
await app.register(asyncTrigger, {
  invoker,
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

// The task API is open by default: this app guards it with a bearer token.
await app.register(taskRoutes, {
  invoker,
  prefix: '/admin',
  authorize: (request) => {
    const auth = request.headers.authorization;
    if (!auth) return 401;
    return auth === `Bearer ${adminToken}`;
  },
});

// The video bytes arrive raw, whatever their type.
app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 128 * 1024 }, (_request, body, done) => done(null, body));

app.post('/videos/:name/transcode', async (request, reply) => {
  // A 4xx is a result, not a failure: no retry.
  if (!Buffer.isBuffer(request.body) || request.body.length === 0) return reply.code(400).send({ error: 'send the video bytes as the body' });
  const { name } = request.params;
  const formats = String(request.query.formats ?? 'mp4').split(',');
  await new Promise((resolve) => setTimeout(resolve, 20)); // stands in for real work
  const digest = createHash('sha256').update(request.body).digest('hex').slice(0, 16);
  return { video: name, bytes: request.body.length, renditions: formats.map((format) => ({ format, key: `${name}.${digest}.${format}` })) };
});

app.get('/health', async () => ({ ok: true }));

const url = await app.listen({ port, host: '127.0.0.1' });
console.log(`transcode example (Fastify) listening on ${url}`);
console.log(`  curl -i -X POST '${url}/videos/cat/transcode?formats=mp4,webm' \\
    -H 'X-Fc-Invocation-Type: Async' -H 'Content-Type: application/octet-stream' --data-binary 'fake video bytes'
  curl -s '${url}/admin/invocations/<requestId>' -H 'Authorization: Bearer ${adminToken}'`);

let closing = false;
async function shutdown(signal) {
  if (closing) return;
  closing = true;
  console.log(`${signal}: closing`);
  await app.close();
  await invoker.close({ timeoutSeconds: 10 });
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
