/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core, against an
 * Express app on 127.0.0.1. Every wait is on a condition in the page, never on a duration.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import express from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInvoker, memoryStore, type Invoker } from '../../src/index.js';
import { dashboard } from '../../src/http/express.js';
import { waitFor, waitForStatus } from '../helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
/** Generous, for a loaded two-core machine: a bound on waiting for a condition, not a measurement. */
const UI_TIMEOUT = 20_000;

/** Steps the `tail` handler takes when the test says so: its log grows one line per step. */
class Steps {
  #waiters: (() => void)[] = [];
  #allowed = 0;
  next(): void {
    this.#allowed++;
    this.#waiters.shift()?.();
  }
  async wait(step: number, signal: AbortSignal): Promise<void> {
    if (this.#allowed >= step) return;
    await new Promise<void>((resolve, reject) => {
      this.#waiters.push(resolve);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }
}

describe('dashboard in chromium', () => {
  let invoker: Invoker;
  let server: Server;
  let origin: string;
  let browser: Browser;
  let context: BrowserContext;
  const steps = new Steps();
  let releaseCapped: () => void = () => {};
  const cappedGate = new Promise<void>((resolve) => (releaseCapped = resolve));
  const foreignRequests: string[] = [];
  const cspViolations: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    invoker = createInvoker({ store: memoryStore(), concurrency: 8 });
    invoker.register('tail', async (payload: { name: string }, ctx) => {
      for (let step = 1; ; step++) {
        ctx.log.info(`step ${step} of ${payload.name}`);
        await steps.wait(step, ctx.signal);
      }
    });
    invoker.register('capped', () => cappedGate, { limits: { concurrency: 1 } });
    invoker.register('quick', (payload: { text: string }, ctx) => {
      ctx.log.info(payload.text, { echo: payload.text });
      return { echoed: payload.text };
    });
    const app = express();
    // The guarded dashboard lets in requests with the session cookie; the open one has no authorize.
    app.use('/admin/jobs', dashboard(invoker, { authorize: (req) => (req.headers.cookie?.includes('session=admin') ? true : 401) }));
    app.use('/public/jobs', dashboard(invoker));
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addCookies([{ name: 'session', value: 'admin', url: origin }]);
    context.on('request', (request) => {
      if (!request.url().startsWith(origin + '/')) foreignRequests.push(request.url());
    });
    context.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  });
  afterAll(async () => {
    releaseCapped();
    await context?.close();
    await browser?.close();
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await invoker?.close({ timeoutSeconds: 1 });
  });

  async function open(path: string): Promise<Page> {
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
    await page.goto(origin + path);
    return page;
  }

  it('finds an invocation, follows its log tail, stops it and sees Stopped without a reload', async () => {
    const { requestId } = await invoker.invokeAsync('tail', { name: 'nightly' }, { invocationId: 'nightly-report-42' });
    await waitForStatus(invoker, requestId, ['Running']);
    const page = await open('/admin/jobs/');
    await page.locator('[data-testid="function-tail"]').waitFor();

    // Find it: the list, filtered by its invocation-id prefix.
    await page.getByRole('link', { name: 'Invocations' }).click();
    await page.locator('input[name="invocationIdPrefix"]').fill('nightly-report');
    await page.getByRole('button', { name: 'Apply' }).click();
    const row = page.locator(`tr[data-request-id="${requestId}"]`);
    await row.waitFor();
    // The filtered page replaces the unfiltered one (which may show the row too): wait for it.
    await waitFor(async () => page.url().includes('invocationIdPrefix') && (await page.locator('[data-testid="invocations"] tbody tr').count()) === 1, {
      what: 'the filtered list to show one row',
      timeoutMs: UI_TIMEOUT,
    });
    await row.waitFor();
    await row.getByRole('link', { name: requestId }).click();

    // Its page: running, the log tails as the handler logs.
    await page.locator('.page-head [data-status="Running"]').waitFor();
    const lines = page.locator('[data-testid="log-lines"] .log-line');
    await lines.filter({ hasText: 'step 1 of nightly' }).waitFor();
    await page.evaluate(() => ((globalThis as unknown as { marker: string }).marker = 'no reload'));
    steps.next();
    await lines.filter({ hasText: 'step 2 of nightly' }).waitFor();
    steps.next();
    await lines.filter({ hasText: 'step 3 of nightly' }).waitFor();

    // Stop, confirmed, and the status changes in place.
    await page.getByTestId('stop').click();
    await expectText(page.getByTestId('confirm-count'), /Stop 1 invocation \(Running\)/);
    await page.getByTestId('confirm-ok').click();
    await page.locator('.page-head [data-status="Stopped"]').waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: string }).marker)).toBe('no reload');
    expect((await invoker.getInvocation(requestId))!.status).toBe('Stopped');
    // The timeline has the attempt and the stop.
    await page.locator('[data-testid="timeline"] .events [data-status="Stopping"]').waitFor();
    await page.close();
  });

  it('shows a limited function\'s running count against its limit, and that its waiting work is held back', async () => {
    const ids = [(await invoker.invokeAsync('capped', null)).requestId, (await invoker.invokeAsync('capped', null)).requestId];
    const page = await open('/admin/jobs/');
    const card = page.locator('[data-testid="function-capped"]');
    await expectText(card.getByTestId('running'), /^1\s*\/\s*1$/);
    await expectText(card.getByTestId('held-back'), /held back by its concurrency limit/);
    await expectText(card.getByTestId('limits'), /1 running at once/);
    releaseCapped();
    for (const id of ids) await waitForStatus(invoker, id, ['Succeeded']);
    await page.close();
  });

  it('re-runs a finished invocation and links the new one to it', async () => {
    const { requestId } = await invoker.invokeAsync('quick', { text: 'hello' });
    await waitForStatus(invoker, requestId, ['Succeeded']);
    const page = await open(`/admin/jobs/#/invocations/${requestId}`);
    await expectText(page.getByTestId('result'), /"echoed": "hello"/);
    await page.getByTestId('rerun').click();
    await expectText(page.getByTestId('confirm-count'), /Re-run 1 invocation/);
    await page.getByTestId('confirm-ok').click();
    // The page moves to the new invocation, which says what it re-runs (a link back).
    const back = page.getByTestId('rerun-of').getByRole('link', { name: requestId });
    await back.waitFor();
    // The timeline's first event names the original too, as a link.
    await page.getByTestId('timeline').getByRole('link', { name: requestId }).waitFor();
    const newId = decodeURIComponent(new URL(page.url()).hash.replace('#/invocations/', ''));
    expect(newId).not.toBe(requestId);
    await page.locator('.page-head [data-status="Succeeded"]').waitFor();
    expect((await invoker.getInvocation(newId))!.rerunOf).toBe(requestId);
    await back.click();
    await page.waitForURL((url) => url.hash === `#/invocations/${requestId}`);
    await page.close();
  });

  it('stops everything a filter matches after a confirmation that says how many', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await invoker.invokeAsync('quick', { text: `later ${i}` }, { delaySeconds: 3600, invocationId: `bulk-later-${i}` })).requestId);
    const page = await open('/admin/jobs/#/invocations?invocationIdPrefix=bulk-later-');
    await page.locator('[data-testid="invocations"] tbody tr').nth(2).waitFor();
    await page.getByTestId('bulk-stop').click();
    await expectText(page.getByTestId('confirm-count'), /Stop 3 invocations matching this filter/);
    await page.getByTestId('confirm-ok').click();
    await expectText(page.getByTestId('toast'), /Stopped 3 of 3/);
    // The rows turn Stopped through the live stream.
    for (const id of ids) await page.locator(`tr[data-request-id="${id}"] [data-status="Stopped"]`).waitFor();
    await page.close();
  });

  it('shows HTML and script from payloads, results and logs as text', async () => {
    const evil = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>';
    const { requestId } = await invoker.invokeAsync('quick', { text: evil });
    await waitForStatus(invoker, requestId, ['Succeeded']);
    const page = await open(`/admin/jobs/#/invocations/${requestId}`);
    await expectText(page.getByTestId('payload'), /<img src=x onerror=/);
    await page.locator('[data-testid="log-lines"] .log-line', { hasText: '<script>window.pwned=2</script>' }).waitFor();
    expect(await page.locator('[data-testid="invocation"] img').count()).toBe(0);
    expect(await page.locator('[data-testid="invocation"] script').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).toBeUndefined();
    await page.close();
  });

  it('read-only without authorize: no actions shown', async () => {
    const { requestId } = await invoker.invokeAsync('quick', { text: 'ro' }, { delaySeconds: 3600 });
    const page = await open(`/public/jobs/#/invocations/${requestId}`);
    await page.getByTestId('read-only').waitFor();
    await page.locator('.page-head [data-status="Enqueued"]').waitFor();
    expect(await page.getByTestId('stop').count()).toBe(0);
    expect(await page.getByTestId('rerun').count()).toBe(0);
    await page.goto(`${origin}/public/jobs/#/invocations`);
    await page.locator('[data-testid="invocations"]').waitFor();
    expect(await page.getByTestId('bulk-stop').count()).toBe(0);
    // And the server refuses the action anyway, from the page's own origin.
    const status = await page.evaluate(async (id) => (await fetch(`api/invocations/${id}/stop`, { method: 'POST' })).status, requestId);
    expect(status).toBe(403);
    await page.close();
  });

  it('refuses a browser without the session: the page and its API answer 401', async () => {
    const anonymous = await browser.newContext();
    const page = await anonymous.newPage();
    const response = await page.goto(`${origin}/admin/jobs/`);
    expect(response!.status()).toBe(401);
    expect(await page.locator('#app').count()).toBe(0);
    const api = await page.evaluate(async () => (await fetch('/admin/jobs/api/session')).status);
    expect(api).toBe(401);
    await anonymous.close();
  });

  it('loaded nothing from another host and broke no Content-Security-Policy rule', () => {
    expect(foreignRequests).toEqual([]);
    expect(cspViolations).toEqual([]);
  });
});

/** Waits until the locator's text matches (the page updates it live). */
async function expectText(locator: ReturnType<Page['locator']>, pattern: RegExp): Promise<void> {
  await locator.filter({ hasText: pattern }).first().waitFor();
}
