/**
 * Every adapter over real HTTP on 127.0.0.1, mounted under /jobs: the same status codes, bodies
 * and headers for the page, its assets, the API's errors, the access rules, cross-site POSTs,
 * read-only mode, oversized query strings, path traversal, and the live stream.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInvoker, memoryStore, type Invoker } from '../../src/index.js';
import { CONTENT_SECURITY_POLICY } from '../../src/dashboard/reply.js';
import { MAX_QUERY_LENGTH } from '../../src/dashboard/query.js';
import { waitFor } from '../helpers.js';
import { MOUNTS, type Mounted } from './servers.js';

/** A raw GET whose path is sent exactly as written (fetch would normalise `..`). */
function rawGet(origin: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

describe.each(MOUNTS)('dashboard on %s', (_name, mount) => {
  let invoker: Invoker;
  let open: Mounted; // no authorize: read-only, loopback only
  let guarded: Mounted; // authorize by x-token
  let readOnly: Mounted; // authorize + readOnly
  let requestId: string;

  beforeAll(async () => {
    invoker = createInvoker({ store: memoryStore(), concurrency: 0 });
    invoker.register('job', () => 'done');
    requestId = (await invoker.invokeAsync('job', { n: 1 })).requestId;
    open = await mount(invoker, {});
    guarded = await mount(invoker, { token: true });
    readOnly = await mount(invoker, { token: true, readOnly: true });
  });
  afterAll(async () => {
    await Promise.all([open?.close(), guarded?.close(), readOnly?.close()]);
    await invoker?.close();
  });

  const yes = { 'x-token': 'yes' };

  it('redirects the bare mount path to the page, relatively', async () => {
    const res = await fetch(open.url.slice(0, -1) + '?x=1', { redirect: 'manual' });
    expect(res.status).toBe(308);
    expect(res.headers.get('location')).toBe('./jobs/?x=1');
  });

  it('serves the page with a strict CSP, no inline script and relative asset URLs', async () => {
    const res = await fetch(open.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\bon\w+=/);
    expect(html).toMatch(/src="assets\/app\.js\?v=[\w-]+"/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('serves the built assets, gzipped when asked, with an ETag', async () => {
    const js = await fetch(open.url + 'assets/app.js', { headers: { 'accept-encoding': 'gzip' } });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('content-encoding')).toBe('gzip');
    expect(js.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect((await js.text()).length).toBeGreaterThan(1000);
    const etag = js.headers.get('etag')!;
    const again = await fetch(open.url + 'assets/app.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const css = await fetch(open.url + 'assets/app.css');
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it.each([
    '/jobs/assets/../package.json',
    '/jobs/assets/../../package.json',
    '/jobs/assets/%2e%2e/%2e%2e/package.json',
    '/jobs/assets/..%2f..%2fpackage.json',
    '/jobs/assets/app.js%00.map',
    '/jobs/assets/',
    '/jobs/assets/core.js',
    '/jobs/assets/constructor',
    '/jobs/assets/app.js/..',
  ])('never serves a file outside the fixed list: %s', async (path) => {
    const res = await rawGet(open.origin, path);
    // A host that resolves `..` in the URL first (fetch's `new URL`) lands outside /jobs: the app answers.
    if (res.body === 'app') expect(path).toMatch(/\.\.|%2e%2e/);
    else expect(res.status).toBe(404);
    expect(res.body).not.toContain('"name": "async-invoker"');
    expect(res.body).not.toContain('import ');
  });

  it('answers unknown API routes and bad queries the same way in every adapter', async () => {
    const missing = await fetch(open.url + 'api/nope');
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toEqual({ code: 'NotFound', message: 'no such dashboard route' });
    const bad = await fetch(open.url + 'api/invocations?limit=abc');
    expect(bad.status).toBe(400);
    expect(await errorOf(bad)).toEqual({ code: 'InvalidQuery', message: 'limit must be an integer from 1 to 200', parameter: 'limit' });
    const unknown = await fetch(open.url + 'api/invocations?nope=1');
    expect(await errorOf(unknown)).toEqual({ code: 'InvalidQuery', message: 'nope is not a parameter of this route', parameter: 'nope' });
    const twice = await fetch(open.url + 'api/invocations?limit=1&limit=2');
    expect(await errorOf(twice)).toEqual({ code: 'InvalidQuery', message: 'limit is given more than once; give it once', parameter: 'limit' });
    const wrongMethod = await fetch(open.url + 'api/invocations', { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
    const none = await fetch(open.url + 'api/invocations/nobody');
    expect(none.status).toBe(404);
    expect(await errorOf(none)).toEqual({ code: 'InvocationNotFound', message: 'no invocation with that request id' });
  });

  it('refuses oversized query strings', async () => {
    const res = await fetch(`${open.url}api/invocations?invocationIdPrefix=${'a'.repeat(MAX_QUERY_LENGTH)}`);
    expect(res.status).toBe(414);
    expect(await errorOf(res)).toEqual({ code: 'QueryTooLong', message: `query strings are limited to ${MAX_QUERY_LENGTH} characters` });
  });

  it("leaves the app's own paths to the app", async () => {
    const res = await fetch(open.origin + '/other');
    expect(await res.text()).toBe('app');
  });

  it('without authorize: reads for a loopback client, refuses actions (read-only) and forwarded requests', async () => {
    const session = (await (await fetch(open.url + 'api/session')).json()) as { readOnly: boolean };
    expect(session.readOnly).toBe(true);
    const record = await fetch(`${open.url}api/invocations/${requestId}`);
    expect(record.status).toBe(200);
    const stop = await fetch(`${open.url}api/invocations/${requestId}/stop`, { method: 'POST', headers: { origin: open.origin } });
    expect(stop.status).toBe(403);
    expect(await errorOf(stop)).toEqual({ code: 'ReadOnly', message: 'this dashboard is read-only: pass authorize to allow actions' });
    const forwarded = await fetch(open.url, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(forwarded.status).toBe(403);
    expect((await errorOf(forwarded)).code).toBe('LoopbackOnly');
    expect((await invoker.getInvocation(requestId))!.status).toBe('Enqueued');
  });

  it('with authorize: every request is decided by it, the page and its assets too', async () => {
    for (const path of ['', 'assets/app.js', 'api/session', 'api/overview', `api/invocations/${requestId}`, 'api/live?topic=overview']) {
      const missing = await fetch(guarded.url + path);
      expect(missing.status, path).toBe(401);
      expect(await errorOf(missing)).toEqual({ code: 'Unauthorized', message: 'authentication is required for the dashboard' });
      const wrong = await fetch(guarded.url + path, { headers: { 'x-token': 'no' } });
      expect(wrong.status, path).toBe(403);
      expect(await errorOf(wrong)).toEqual({ code: 'Forbidden', message: 'not allowed to use the dashboard' });
    }
    const ok = await fetch(guarded.url + 'api/session', { headers: yes });
    expect(((await ok.json()) as { readOnly: boolean }).readOnly).toBe(false);
  });

  it('refuses cross-site POSTs: no Origin, a foreign Origin, a cross-site fetch', async () => {
    const url = `${guarded.url}api/invocations/${requestId}/stop`;
    const cases: [Record<string, string>, string][] = [
      [{}, 'the request has no Origin header'],
      [{ origin: 'https://evil.example' }, 'Origin "https://evil.example" is not this dashboard\'s'],
      [{ origin: 'null' }, 'the request has no Origin header'],
      [{ origin: guarded.origin, 'sec-fetch-site': 'cross-site' }, 'Sec-Fetch-Site is "cross-site"'],
    ];
    for (const [headers, why] of cases) {
      const res = await fetch(url, { method: 'POST', headers: { ...yes, ...headers } });
      expect(res.status).toBe(403);
      expect(await errorOf(res)).toEqual({ code: 'CrossSiteRequest', message: `actions must come from the dashboard's own page: ${why}` });
    }
    const bulk = await fetch(`${guarded.url}api/bulk/stop?max=5`, { method: 'POST', headers: { ...yes, origin: 'https://evil.example' } });
    expect(bulk.status).toBe(403);
    expect((await invoker.getInvocation(requestId))!.status).toBe('Enqueued');
  });

  it('readOnly: true refuses the actions even when authorized', async () => {
    const session = (await (await fetch(readOnly.url + 'api/session', { headers: yes })).json()) as { readOnly: boolean };
    expect(session.readOnly).toBe(true);
    for (const path of [`api/invocations/${requestId}/stop`, `api/invocations/${requestId}/rerun`, 'api/bulk/stop?max=1', 'api/bulk/rerun?max=1']) {
      const res = await fetch(readOnly.url + path, { method: 'POST', headers: { ...yes, origin: readOnly.origin } });
      expect(res.status, path).toBe(403);
      expect(await errorOf(res)).toEqual({ code: 'ReadOnly', message: 'this dashboard is read-only (readOnly: true)' });
    }
  });

  it('streams live updates as Server-Sent Events', async () => {
    const controller = new AbortController();
    const res = await fetch(`${guarded.url}api/live?topic=invocation&requestId=${requestId}`, { headers: yes, signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    const reader = res.body!.getReader();
    let text = '';
    await waitFor(
      async () => {
        const { value } = await reader.read();
        text += new TextDecoder().decode(value);
        return text.includes('event: update');
      },
      { what: 'the first update' },
    );
    const data = JSON.parse(/data: (.*)\n/.exec(text.slice(text.indexOf('event: update')))![1]!) as { record: { requestId: string } };
    expect(data.record.requestId).toBe(requestId);
    controller.abort();
    await reader.cancel().catch(() => {});
  });

  it('stops and re-runs from its own origin', async () => {
    const id = (await invoker.invokeAsync('job', { n: 2 })).requestId;
    const stop = await fetch(`${guarded.url}api/invocations/${id}/stop`, { method: 'POST', headers: { ...yes, origin: guarded.origin } });
    expect(stop.status).toBe(200);
    expect(await stop.json()).toEqual({ requestId: id, status: 'Stopped' });
    const rerun = await fetch(`${guarded.url}api/invocations/${id}/rerun`, { method: 'POST', headers: { ...yes, origin: guarded.origin } });
    expect(rerun.status).toBe(202);
    const { requestId: newId } = (await rerun.json()) as { requestId: string };
    expect((await invoker.getInvocation(newId))!.rerunOf).toBe(id);
  });
});
