// The upload-and-transcode app on Koa 3 (memory store: invocations are lost on restart; see the
// Express example for SQLite). Async uploads are answered 202 and transcoded in the background.
//
//   npm run build && node examples/koa/server.js      (PORT and ADMIN_TOKEN from the environment)
import { createHash } from 'node:crypto';
import Koa from 'koa';
import Router from '@koa/router';
import { createInvoker, memoryStore } from 'async-invoker';
import { asyncTrigger, taskRoutes } from 'async-invoker/koa';

const port = Number(process.env.PORT ?? 3000);
const adminToken = process.env.ADMIN_TOKEN ?? 'change-me';

const invoker = createInvoker({ store: memoryStore(), concurrency: 4 });

invoker.register('transcode-failed', async (record) => {
  const { requestId, condition, approximateInvokeCount } = record.requestContext;
  console.error(`transcode ${requestId} failed (${condition}) after ${approximateInvokeCount} attempt(s):`, record.responsePayload);
});

const app = new Koa();

// First, before body parsers. Routes added below are found at replay time.
app.use(
  asyncTrigger(invoker, {
    app,
    functionName: 'transcode',
    maxAsyncRetryAttempts: 2,
    destinations: {
      onSuccess: async (record) => {
        console.log(`transcode ${record.requestContext.requestId} done:`, JSON.stringify(record.responsePayload.body));
      },
      onFailure: { function: 'transcode-failed' },
    },
  }),
);

// The task API is open by default: guard it.
app.use(
  taskRoutes(invoker, {
    basePath: '/admin',
    authorize: (ctx) => {
      const auth = ctx.get('authorization');
      if (!auth) return 401;
      return auth === `Bearer ${adminToken}`;
    },
  }),
);

const router = new Router();
router.post('/videos/:name/transcode', async (ctx) => {
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  if (body.length === 0) ctx.throw(400, 'send the video bytes as the body');
  const formats = String(ctx.query.formats ?? 'mp4').split(',');
  await new Promise((resolve) => setTimeout(resolve, 20)); // stands in for real work
  const digest = createHash('sha256').update(body).digest('hex').slice(0, 16);
  ctx.body = {
    video: ctx.params.name,
    bytes: body.length,
    renditions: formats.map((format) => ({ format, key: `${ctx.params.name}.${digest}.${format}` })),
  };
});
router.get('/health', (ctx) => {
  ctx.body = { ok: true };
});
app.use(router.routes()).use(router.allowedMethods());

const server = app.listen(port, '127.0.0.1', () => {
  const url = `http://127.0.0.1:${server.address().port}`;
  console.log(`transcode example (Koa) listening on ${url}`);
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
  server.closeIdleConnections();
  await invoker.close({ timeoutSeconds: 10 });
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
