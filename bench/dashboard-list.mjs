// How long the dashboard's invocation list takes to show its first page with 100,000 records on
// SQLite: seeds a fresh database, mounts the dashboard on Express (127.0.0.1), and measures in
// Debian's chromium the time from navigation start to the 50th row in the table (performance.now()
// in the page, read on the first animation frame that has them). Run `npm run build` first.
//
//   node bench/dashboard-list.mjs [records=100000] [runs=5]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { chromium } from 'playwright-core';
import { createInvoker } from 'async-invoker';
import { sqliteStore } from 'async-invoker/sqlite';
import { dashboard } from 'async-invoker/express';

const records = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'ai-dashboard-bench-'));
const store = sqliteStore({ path: join(dir, 'bench.db') });
// A producer (concurrency 0): nothing runs, the records stay as seeded.
const invoker = createInvoker({ store, concurrency: 0 });
invoker.register('resize', () => null);
invoker.register('notify', () => null);
// Nothing runs them on purpose: no UnservedFunction warnings.
invoker.on('warning', () => {});

const seedStart = performance.now();
const now = Date.now();
const BATCH = 1000;
for (let i = 0; i < records; i += BATCH) {
  const items = [];
  for (let j = i; j < Math.min(records, i + BATCH); j++) {
    const createdAt = now - (records - j) * 500; // one every half second, the newest now
    items.push({
      requestId: `bench-${String(j).padStart(7, '0')}`,
      functionName: j % 3 === 0 ? 'notify' : 'resize',
      payload: { image: `img-${j}.png`, width: 640 },
      createdAt,
      scheduledAt: createdAt + 86_400_000,
      invocationId: j % 10 === 0 ? `order-${j}` : undefined,
      payloadKey: j % 10 === 0 ? `{"image":"img-${j}.png","width":640}` : undefined,
      hops: 0,
    });
  }
  await store.enqueue(items);
}
console.log(`seeded ${records.toLocaleString()} records in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

const app = express();
app.use('/jobs', dashboard(invoker));
const server = await new Promise((resolve) => {
  const s = app.listen(0, '127.0.0.1', () => resolve(s));
});
const url = `http://127.0.0.1:${server.address().port}/jobs/`;

const apiTimes = [];
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  const res = await fetch(`${url}api/invocations?limit=50`);
  await res.json();
  apiTimes.push(performance.now() - t);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const renderTimes = [];
try {
  for (let i = 0; i < runs; i++) {
    // A new context each run: nothing cached from the run before.
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${url}#/invocations`, { waitUntil: 'commit' });
    const handle = await page.waitForFunction(
      () => (document.querySelectorAll('[data-testid="invocations"] tbody tr').length >= 50 ? performance.now() : false),
      undefined,
      { polling: 'raf', timeout: 60_000 },
    );
    renderTimes.push(await handle.jsonValue());
    await context.close();
  }
} finally {
  await browser.close();
  server.closeAllConnections();
  server.close();
  await invoker.close();
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (xs) => xs.map((x) => `${Math.round(x)}`).join(', ');
console.log(`GET api/invocations?limit=50: median ${median(apiTimes).toFixed(1)} ms (runs: ${ms(apiTimes)} ms)`);
console.log(`first page rendered (50 rows, from navigation start): median ${Math.round(median(renderTimes))} ms (runs: ${ms(renderTimes)} ms)`);
