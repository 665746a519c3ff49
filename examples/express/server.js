// An upload-and-transcode app on Express 5. Uploads sent with `X-Fc-Invocation-Type: Async` are
// answered 202 at once and transcoded in the background, with retries, a success log and a
// failure handler; the task API shows, stops and reruns them. Invocations live in SQLite, so
// they survive a restart.
//
//   npm run build && npm start            (PORT and ADMIN_TOKEN are read from the environment)
import { mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import express from 'express';
import { createInvoker } from 'async-invoker';
import { sqliteStore } from 'async-invoker/sqlite';
import { asyncTrigger, dashboard, taskRoutes } from 'async-invoker/express';

const port = Number(process.env.PORT ?? 3000);
const adminToken = process.env.ADMIN_TOKEN ?? 'change-me';

mkdirSync('./data', { recursive: true });
const invoker = createInvoker({ store: sqliteStore({ path: './data/async-invoker.db' }), concurrency: 4 });

// Where a transcode that failed for good goes (its onFailure destination): alert, clean up, ...
invoker.register('transcode-failed', async (record) => {
  const { requestId, condition, approximateInvokeCount } = record.requestContext;
  console.error(`transcode ${requestId} failed (${condition}) after ${approximateInvokeCount} attempt(s):`, record.responsePayload);
});

const app = express();

// First, before body parsers: async requests are recorded here and replayed into `app` later.
app.use(
  asyncTrigger(invoker, {
    app,
    functionName: 'transcode',
    maxAsyncRetryAttempts: 2,
    timeoutSeconds: 60,
    destinations: {
      onSuccess: async (record) => {
        const { statusCode, body } = record.responsePayload;
        console.log(`transcode ${record.requestContext.requestId} done (${statusCode}):`, JSON.stringify(body));
      },
      onFailure: { function: 'transcode-failed' },
    },
  }),
);

// The task API is open by default: this app guards it with a bearer token.
app.use(
  '/admin',
  taskRoutes(invoker, {
    authorize: (req) => {
      const auth = req.headers.authorization;
      if (!auth) return 401;
      return auth === `Bearer ${adminToken}`;
    },
  }),
);

// The dashboard at /jobs: read-only and for this machine only unless `authorize` lets a request in.
// Here the admin token also works as a cookie, so a browser can open it: with `authorize`, Stop
// and Re-run are on (they accept only POSTs from the dashboard's own page).
app.use(
  '/jobs',
  dashboard(invoker, {
    title: 'Transcodes',
    authorize: (req) => {
      const cookie = req.headers.cookie ?? '';
      const bearer = req.headers.authorization;
      if (bearer === `Bearer ${adminToken}` || cookie.split(/;\s*/).includes(`admin_token=${adminToken}`)) return true;
      return bearer || cookie.includes('admin_token=') ? 403 : 401;
    },
  }),
);

app.post('/videos/:name/transcode', express.raw({ type: () => true, limit: '128kb' }), async (req, res) => {
  // Without a body Express leaves req.body undefined. A 4xx is a result, not a failure: no retry.
  if (!Buffer.isBuffer(req.body) || req.body.length === 0) return res.status(400).json({ error: 'send the video bytes as the body' });
  const formats = String(req.query.formats ?? 'mp4').split(',');
  // Stands in for real work: one "rendition" per format.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const digest = createHash('sha256').update(req.body).digest('hex').slice(0, 16);
  res.json({
    video: req.params.name,
    bytes: req.body.length,
    renditions: formats.map((format) => ({ format, key: `${req.params.name}.${digest}.${format}` })),
  });
});

app.get('/health', (_req, res) => res.json({ ok: true }));

const server = app.listen(port, '127.0.0.1', () => {
  const url = `http://127.0.0.1:${server.address().port}`;
  console.log(`transcode example listening on ${url}`);
  console.log(`  curl -i -X POST '${url}/videos/cat/transcode?formats=mp4,webm' \\
    -H 'X-Fc-Invocation-Type: Async' -H 'Content-Type: application/octet-stream' --data-binary 'fake video bytes'
  curl -s '${url}/admin/invocations?functionName=transcode' -H 'Authorization: Bearer ${adminToken}'
  curl -s '${url}/admin/invocations/<requestId>' -H 'Authorization: Bearer ${adminToken}'
  dashboard: ${url}/jobs/ (set the cookie admin_token=${adminToken} in the browser)`);
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
