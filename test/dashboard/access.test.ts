/**
 * The access rules decided as a unit: which peer addresses count as loopback, and the core's
 * answer to requests from other addresses (built in memory: no traffic leaves this machine).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createInvoker, memoryStore } from '../../src/index.js';
import { isLoopbackAddress } from '../../src/dashboard/access.js';
import { createDashboardCore } from '../../src/dashboard/core.js';
import { assetSizes } from '../../src/dashboard/assets.js';
import type { BodyReply, DashboardRequest } from '../../src/dashboard/types.js';

const invoker = createInvoker({ store: memoryStore(), concurrency: 0 });
afterAll(() => invoker.close());

function request(remoteAddress: string | undefined, headers: Record<string, string> = {}): DashboardRequest<{ id: string }> {
  return { method: 'GET', path: '/api/session', query: '', clientPath: '/jobs/api/session', header: (name) => headers[name], remoteAddress, raw: { id: 'raw' } };
}

async function answer(core: ReturnType<typeof createDashboardCore<{ id: string }>>, req: DashboardRequest<{ id: string }>): Promise<{ status: number; code?: string }> {
  const reply = (await core.handle(req)) as BodyReply;
  const body = JSON.parse(String(reply.body)) as { error?: { code: string } };
  return { status: reply.status, ...(body.error ? { code: body.error.code } : {}) };
}

describe('loopback addresses', () => {
  it.each(['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '[::1]', '0:0:0:0:0:0:0:1'])('%s is loopback', (a) => {
    expect(isLoopbackAddress(a)).toBe(true);
  });
  it.each([undefined, '', '10.0.0.1', '192.168.1.2', '203.0.113.9', '::ffff:10.0.0.1', 'fe80::1', '128.0.0.1', '127.0.0.256', 'localhost', '::2'])('%s is not', (a) => {
    expect(isLoopbackAddress(a)).toBe(false);
  });
});

describe('without authorize', () => {
  const core = createDashboardCore<{ id: string }>(invoker);
  it('answers a loopback peer', async () => {
    expect(await answer(core, request('127.0.0.1'))).toEqual({ status: 200 });
    expect(await answer(core, request('::1'))).toEqual({ status: 200 });
  });
  it('refuses any other peer, and an unknown one', async () => {
    expect(await answer(core, request('10.1.2.3'))).toEqual({ status: 403, code: 'LoopbackOnly' });
    expect(await answer(core, request('2001:db8::1'))).toEqual({ status: 403, code: 'LoopbackOnly' });
    expect(await answer(core, request(undefined))).toEqual({ status: 403, code: 'LoopbackOnly' });
  });
  it('refuses a request a local proxy forwarded', async () => {
    for (const header of ['forwarded', 'x-forwarded-for', 'x-real-ip', 'via']) {
      expect(await answer(core, request('127.0.0.1', { [header]: 'for=198.51.100.4' }))).toEqual({ status: 403, code: 'LoopbackOnly' });
    }
  });
});

describe('with authorize', () => {
  it('hands it the framework request, whatever the address; a throwing one is a 500 that says nothing of it', async () => {
    const seen: unknown[] = [];
    const core = createDashboardCore<{ id: string }>(invoker, { authorize: (req) => (seen.push(req), true) });
    expect(await answer(core, request('10.1.2.3'))).toEqual({ status: 200 });
    expect(seen).toEqual([{ id: 'raw' }]);
    const errors: unknown[] = [];
    invoker.on('error', (e) => errors.push(e));
    const throwing = createDashboardCore<{ id: string }>(invoker, {
      authorize: () => {
        throw new Error('secret database password in this message');
      },
    });
    const reply = (await throwing.handle(request('127.0.0.1'))) as BodyReply;
    expect(reply.status).toBe(500);
    expect(String(reply.body)).not.toContain('secret');
    expect(errors).toHaveLength(1);
  });
});

describe('options', () => {
  it('are checked with the field named', () => {
    expect(() => createDashboardCore(invoker, { readOnly: false })).toThrow(/options\.readOnly/);
    expect(() => createDashboardCore(invoker, { maxBulk: 0 })).toThrow(/options\.maxBulk/);
    expect(() => createDashboardCore(invoker, { allowedOrigins: ['evil'] })).toThrow(/options\.allowedOrigins/);
    expect(() => createDashboardCore(invoker, { nope: 1 } as never)).toThrow(/options\.nope/);
    expect(() => createDashboardCore({} as never)).toThrow(/invoker/);
  });
});

describe('assets', () => {
  it('stay small: under 100 KB gzipped in all', () => {
    const sizes = assetSizes();
    const total = Object.values(sizes).reduce((n, s) => n + s.gzip, 0);
    expect(total).toBeLessThan(100 * 1024);
  });
});
