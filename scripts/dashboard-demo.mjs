// A demo app for the dashboard (run from dist/: `npm run build` first): three functions on
// SQLite with retries, logs and a long-running job, an hour of activity for the charts, and the
// dashboard mounted on Express at /jobs. Used by `npm run screenshots`; run it alone to look:
//
//   node scripts/dashboard-demo.mjs        (PORT from the environment, default 3000)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { createInvoker, DURATION_BUCKETS_MS, NonRetryableError } from 'async-invoker';
import { sqliteStore } from 'async-invoker/sqlite';
import { dashboard } from 'async-invoker/express';

const MINUTE = 60_000;
const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

/** A histogram with `n` durations around `ms` (the buckets of DURATION_BUCKETS_MS). */
function histogram(n, ms) {
  const h = new Array(DURATION_BUCKETS_MS.length + 1).fill(0);
  for (let i = 0; i < n; i++) {
    const v = ms * (0.4 + Math.random() * 1.4) * (Math.random() < 0.06 ? 6 : 1);
    const b = DURATION_BUCKETS_MS.findIndex((upper) => v <= upper);
    h[b === -1 ? h.length - 1 : b]++;
  }
  return h;
}

/** Activity for the 59 minutes before this one, so the charts have an hour to show. */
async function seedActivity(store, now) {
  const thisMinute = now - (now % MINUTE);
  const entries = [];
  for (let m = 59; m >= 1; m--) {
    const minute = thisMinute - m * MINUTE;
    const wave = 1 + Math.sin(m / 7);
    const transcodes = Math.round(14 + 10 * wave + Math.random() * 6);
    entries.push({
      functionName: 'transcode',
      minute,
      finished: { Succeeded: transcodes, Failed: Math.round(Math.random() * 2.2), ...(m === 23 ? { Stopped: 2 } : {}) },
      wait: histogram(transcodes, m > 30 && m < 38 ? 2400 : 90),
      run: histogram(transcodes, 900),
    });
    const emails = Math.round(30 + 20 * Math.random());
    entries.push({
      functionName: 'send-email',
      minute,
      finished: { Succeeded: emails, ...(m % 11 === 0 ? { Failed: 3, Expired: 1 } : {}) },
      wait: histogram(emails, 12),
      run: histogram(emails, 40),
    });
  }
  await store.recordActivity(entries);
}

export async function startDemo({ port = 0 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'async-invoker-demo-'));
  const store = sqliteStore({ path: join(dir, 'demo.db') });
  const invoker = createInvoker({ store, concurrency: 8 });

  invoker.register(
    'transcode',
    async (payload, ctx) => {
      ctx.log.info(`fetching ${payload.url}`);
      await sleep(120 + Math.random() * 200, ctx.signal);
      for (const format of payload.formats) {
        ctx.log.info(`rendering ${format}`, { bitrate: format === 'webm' ? '2M' : '4M' });
        await sleep(80 + Math.random() * 120, ctx.signal);
      }
      if (payload.flaky && ctx.attempt < 2) {
        ctx.log.warn('storage answered 503; giving up this attempt');
        throw new Error('upstream storage unavailable (503)');
      }
      return { renditions: payload.formats.map((f) => `${payload.url.split('/').pop()}.${f}`) };
    },
    {
      maxAsyncRetryAttempts: 2,
      retryBackoff: { initialDelayMs: 400, jitter: 'none' },
      destinations: { onFailure: { function: 'send-email' } },
      // The encoders take two at a time, whatever the number of workers: the overview shows it.
      limits: { concurrency: 2 },
    },
  );
  invoker.register(
    'send-email',
    async (payload, ctx) => {
      ctx.log.info('rendering template', { template: payload.template ?? 'failure-alert' });
      await sleep(30, ctx.signal);
      if (payload.to === 'bounce@example.com') throw new NonRetryableError('mailbox does not exist');
      ctx.log.info('sent');
      return { messageId: `<${Math.random().toString(36).slice(2)}@mail.example.com>` };
    },
    { maxAsyncRetryAttempts: 1 },
  );
  invoker.register('nightly-report', async (payload, ctx) => {
    ctx.log.info('report started', payload);
    for (let i = 1; ; i++) {
      await sleep(700, ctx.signal);
      ctx.log.info(`aggregated partition ${i}`, { rows: 1000 * i });
      if (i === 4) ctx.log.warn('partition 4 is late; waiting for it');
    }
  }, { timeoutSeconds: 3600 });

  await seedActivity(store, Date.now());
  const ids = {};
  ids.flaky = (await invoker.invokeAsync('transcode', { url: 's3://videos/cat.mov', formats: ['mp4', 'webm'], flaky: true })).requestId;
  for (const name of ['dog', 'bird', 'fish', 'horse']) await invoker.invokeAsync('transcode', { url: `s3://videos/${name}.mov`, formats: ['mp4'] });
  ids.html = (await invoker.invokeAsync('send-email', { to: 'ops@example.com', template: '<img src=x onerror=alert(1)> <script>alert(2)</script>' })).requestId;
  ids.bounce = (await invoker.invokeAsync('send-email', { to: 'bounce@example.com' })).requestId;
  for (let i = 0; i < 6; i++) await invoker.invokeAsync('send-email', { to: `user${i}@example.com`, template: 'welcome' }, { invocationId: `welcome-user${i}` });
  await invoker.invokeAsync('transcode', { url: 's3://videos/later.mov', formats: ['mp4'] }, { delaySeconds: 1800 });
  ids.running = (await invoker.invokeAsync('nightly-report', { day: '2025-06-01' }, { invocationId: 'report-2025-06-01' })).requestId;

  const app = express();
  app.use('/jobs', dashboard(invoker, { authorize: () => true, title: 'Acme jobs' }));
  const server = await new Promise((resolve) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${server.address().port}/jobs/`;
  return {
    url,
    invoker,
    ids,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await invoker.close({ timeoutSeconds: 1 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const demo = await startDemo({ port: Number(process.env.PORT ?? 3000) });
  console.log(`dashboard demo at ${demo.url}`);
  process.on('SIGINT', () => void demo.close().then(() => process.exit(0)));
}
