/**
 * Every API route on every store (see stores.ts), over real HTTP on 127.0.0.1 (Express): the
 * dashboard reads and acts through the invoker's API only, so each store must serve it alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInvoker, type Invoker } from '../../src/index.js';
import { waitFor, waitForStatus } from '../helpers.js';
import { expressMount, type Mounted } from './servers.js';
import { STORES } from './stores.js';

const yes = { 'x-token': 'yes' };

describe.each(STORES)('dashboard API on the $name store', (factory) => {
  let invoker: Invoker;
  let server: Mounted;
  let cleanup: () => Promise<void> | void;
  let release: () => void = () => {};
  const gate = () => new Promise<void>((resolve) => (release = resolve));
  const ids: Record<string, string> = {};

  const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(server.url + path, { headers: yes });
    return { status: res.status, body: (await res.json()) as T };
  };
  const post = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(server.url + path, { method: 'POST', headers: { ...yes, origin: server.origin } });
    return { status: res.status, body: (await res.json()) as T };
  };

  beforeAll(async () => {
    const created = factory.create();
    cleanup = created.cleanup;
    invoker = createInvoker({ store: created.store, concurrency: 4 });
    invoker.register('ok', (payload: { n: number }, ctx) => {
      ctx.log.info(`line for ${payload.n}`, { n: payload.n });
      return { doubled: payload.n * 2 };
    });
    invoker.register('fail', () => {
      throw new Error('nope');
    }, { maxAsyncRetryAttempts: 0 });
    invoker.register('wait', async (_p: null, ctx) => {
      ctx.log.info('waiting');
      await gate();
      ctx.signal.throwIfAborted();
    });
    for (let n = 0; n < 5; n++) ids[`ok${n}`] = (await invoker.invokeAsync('ok', { n }, { invocationId: `order-${n}` })).requestId;
    ids.fail = (await invoker.invokeAsync('fail', null)).requestId;
    ids.later = (await invoker.invokeAsync('ok', { n: 99 }, { delaySeconds: 3600 })).requestId;
    for (const key of ['ok0', 'ok1', 'ok2', 'ok3', 'ok4']) await waitForStatus(invoker, ids[key]!, ['Succeeded']);
    await waitForStatus(invoker, ids.fail!, ['Failed']);
    server = await expressMount(invoker, { token: true });
  });
  afterAll(async () => {
    release();
    await server?.close();
    await invoker?.close({ timeoutSeconds: 1 });
    await cleanup?.();
  });

  it('GET api/session: title, readOnly and the registered functions', async () => {
    const { status, body } = await get<{ title: string; readOnly: boolean; functions: { name: string }[] }>('api/session');
    expect(status).toBe(200);
    expect(body.title).toBe('async-invoker');
    expect(body.readOnly).toBe(false);
    expect(body.functions.map((f) => f.name).sort()).toEqual(['fail', 'ok', 'wait']);
  });

  it('GET api/overview: queue figures per function, an hour of minutes, live workers', async () => {
    // Activity reaches the store in the worker's 10-second batches: wait for it rather than guess.
    let body: { minutes: number[]; functions: { name: string; queue: { depth: number }; lastHour: Record<string, number> }[]; workers: { functions: string[] }[] } | undefined;
    await waitFor(
      async () => {
        body = (await get<typeof body>('api/overview')).body;
        return body!.functions.find((f) => f.name === 'ok')!.lastHour.Succeeded === 5;
      },
      { timeoutMs: 25_000, intervalMs: 200, what: 'the activity of 5 successes' },
    );
    expect(body!.minutes).toHaveLength(60);
    const ok = body!.functions.find((f) => f.name === 'ok')!;
    expect(ok.queue.depth).toBe(1);
    expect(body!.functions.find((f) => f.name === 'fail')!.lastHour.Failed).toBe(1);
    expect(body!.workers.some((w) => w.functions.includes('ok'))).toBe(true);
  });

  it('GET api/invocations: newest first, rows without payloads, cursor paging', async () => {
    const first = await get<{ items: { requestId: string; createdAt: number; payload?: unknown }[]; nextCursor?: string }>('api/invocations?limit=3');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(3);
    const times = first.body.items.map((i) => i.createdAt);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(first.body.items[0]!.payload).toBeUndefined();
    const second = await get<{ items: { requestId: string }[]; nextCursor?: string }>(`api/invocations?limit=3&cursor=${encodeURIComponent(first.body.nextCursor!)}`);
    const third = await get<{ items: { requestId: string }[]; nextCursor?: string }>(`api/invocations?limit=3&cursor=${encodeURIComponent(second.body.nextCursor!)}`);
    const all = [...first.body.items, ...second.body.items, ...third.body.items].map((i) => i.requestId);
    expect(new Set(all).size).toBe(7);
    expect(third.body.nextCursor).toBeUndefined();
  });

  it('GET api/invocations: filters by function, status, time range, request id and invocation-id prefix', async () => {
    type Page = { items: { requestId: string; functionName: string; status: string }[] };
    const byFn = (await get<Page>('api/invocations?functionName=fail')).body.items;
    expect(byFn.map((i) => i.requestId)).toEqual([ids.fail]);
    const byStatus = (await get<Page>('api/invocations?status=Failed,Enqueued')).body.items;
    expect(byStatus.map((i) => i.requestId).sort()).toEqual([ids.fail, ids.later].sort());
    const record = (await invoker.getInvocation(ids.ok2!))!;
    const byTime = (await get<Page>(`api/invocations?functionName=ok&since=${record.createdAt}&until=${record.createdAt + 1}`)).body.items;
    expect(byTime.map((i) => i.requestId)).toContain(ids.ok2);
    const byId = (await get<Page>(`api/invocations?requestId=${ids.ok3}`)).body.items;
    expect(byId.map((i) => i.requestId)).toEqual([ids.ok3]);
    const byIdWrongFn = (await get<Page>(`api/invocations?requestId=${ids.ok3}&functionName=fail`)).body.items;
    expect(byIdWrongFn).toEqual([]);
    const byPrefix = (await get<Page>('api/invocations?invocationIdPrefix=order-')).body.items;
    expect(byPrefix).toHaveLength(5);
    const bad = await get<{ error: { code: string; parameter: string } }>('api/invocations?status=Nope');
    expect(bad.status).toBe(400);
    expect(bad.body.error.parameter).toBe('status');
  });

  it('GET api/invocations/:id: the record and the actions that apply', async () => {
    const ok = await get<{ record: { result: unknown; payload: unknown; events: unknown[] }; canStop: boolean; canRerun: boolean }>(`api/invocations/${ids.ok1}`);
    expect(ok.body.record.result).toEqual({ doubled: 2 });
    expect(ok.body.record.payload).toEqual({ n: 1 });
    expect(ok.body.canRerun).toBe(true);
    expect(ok.body.canStop).toBe(false);
    const later = await get<{ canStop: boolean; canRerun: boolean }>(`api/invocations/${ids.later}`);
    expect(later.body).toMatchObject({ canStop: true, canRerun: false });
  });

  it('GET api/invocations/:id/logs: lines after a cursor', async () => {
    const all = await get<{ lines: { message: string; seq: number }[]; nextCursor: number }>(`api/invocations/${ids.ok4}/logs`);
    expect(all.body.lines.map((l) => l.message)).toEqual(['line for 4']);
    const after = await get<{ lines: unknown[]; nextCursor: number }>(`api/invocations/${ids.ok4}/logs?after=${all.body.nextCursor}`);
    expect(after.body.lines).toEqual([]);
    expect((await get('api/invocations/nobody/logs')).status).toBe(404);
  });

  it('POST stop on a running invocation, and rerun only a finished one', async () => {
    const id = (await invoker.invokeAsync('wait', null)).requestId;
    await waitForStatus(invoker, id, ['Running']);
    const notFinal = await post<{ error: { code: string } }>(`api/invocations/${id}/rerun`);
    expect(notFinal.status).toBe(409);
    expect(notFinal.body.error.code).toBe('InvocationNotFinal');
    const stop = await post<{ status: string }>(`api/invocations/${id}/stop`);
    expect(stop.body.status).toBe('Stopping');
    release();
    await waitForStatus(invoker, id, ['Stopped']);
    const rerun = await post<{ requestId: string; rerunOf: string }>(`api/invocations/${id}/rerun`);
    expect(rerun.status).toBe(202);
    expect(rerun.body.rerunOf).toBe(id);
    const stopped = await post<{ status: string }>(`api/invocations/${rerun.body.requestId}/stop`);
    expect(['Stopped', 'Stopping']).toContain(stopped.body.status);
    release();
  });

  it('bulk: the preview counts what the action applies to; the action takes at most that many', async () => {
    const batch: string[] = [];
    for (let n = 0; n < 4; n++) batch.push((await invoker.invokeAsync('ok', { n: 100 + n }, { delaySeconds: 3600, invocationId: `bulk-${n}` })).requestId);
    const preview = await get<{ count: number; capped: boolean; until: number }>('api/bulk?action=stop&invocationIdPrefix=bulk-');
    expect(preview.body).toMatchObject({ count: 4, capped: false });
    const none = await get<{ count: number }>('api/bulk?action=stop&invocationIdPrefix=bulk-&status=Succeeded');
    expect(none.body.count).toBe(0);
    const stopped = await post<{ matched: number; done: number }>(`api/bulk/stop?invocationIdPrefix=bulk-&until=${preview.body.until}&max=3`);
    expect(stopped.body).toMatchObject({ matched: 3, done: 3 });
    const statuses = await Promise.all(batch.map(async (id) => (await invoker.getInvocation(id))!.status));
    expect(statuses.filter((s) => s === 'Stopped')).toHaveLength(3);
    const rerunPreview = await get<{ count: number; until: number }>('api/bulk?action=rerun&invocationIdPrefix=bulk-');
    expect(rerunPreview.body.count).toBe(3);
    const rerun = await post<{ matched: number; done: number }>(`api/bulk/rerun?invocationIdPrefix=bulk-&until=${rerunPreview.body.until}&max=${rerunPreview.body.count}`);
    expect(rerun.body).toMatchObject({ matched: 3, done: 3 });
    const reruns = (await invoker.listInvocations({ limit: 1000 })).items.filter((r) => r.rerunOf !== undefined && batch.includes(r.rerunOf));
    expect(reruns).toHaveLength(3);
    expect((await get('api/bulk?action=explode')).status).toBe(400);
    expect((await post('api/bulk/stop')).status).toBe(400);
  });

  it('live: a list topic pushes the page again when a row changes', async () => {
    const id = (await invoker.invokeAsync('ok', { n: 7 }, { delaySeconds: 3600, invocationId: 'live-list' })).requestId;
    const controller = new AbortController();
    const res = await fetch(`${server.url}api/live?topic=list&invocationIdPrefix=live-list`, { headers: yes, signal: controller.signal });
    const reader = res.body!.getReader();
    const updates: { items: { status: string }[] }[] = [];
    let buffer = '';
    const next = async () => {
      for (;;) {
        const m = /event: update\ndata: (.*)\n\n/.exec(buffer);
        if (m) {
          buffer = buffer.slice(m.index + m[0].length);
          updates.push(JSON.parse(m[1]!) as { items: { status: string }[] });
          return;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += new TextDecoder().decode(value);
      }
    };
    await next();
    expect(updates[0]!.items[0]!.status).toBe('Enqueued');
    await invoker.stopInvocation(id);
    await next();
    expect(updates[1]!.items[0]!.status).toBe('Stopped');
    controller.abort();
    await reader.cancel().catch(() => {});
  });
});

describe.each(STORES)('dashboard overview of a limited function on the $name store', (factory) => {
  it('shows its running count beside its limit, and which limit holds its waiting work back', async () => {
    const created = factory.create();
    const invoker = createInvoker({ store: created.store, concurrency: 4 });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    invoker.register('capped', () => gate, { limits: { concurrency: 1 } });
    const server = await expressMount(invoker, { token: true });
    try {
      const ids = [(await invoker.invokeAsync('capped', null)).requestId, (await invoker.invokeAsync('capped', null)).requestId];
      type Capped = { name: string; queue: { running: number; depth: number; limits?: { concurrency?: number }; heldBackBy?: string } };
      let capped: Capped | undefined;
      await waitFor(
        async () => {
          const res = await fetch(`${server.url}api/overview`, { headers: yes });
          capped = ((await res.json()) as { functions: Capped[] }).functions.find((f) => f.name === 'capped');
          return capped?.queue.running === 1 && capped.queue.heldBackBy === 'concurrency';
        },
        { timeoutMs: 20_000, intervalMs: 50, what: 'one running and the other held back' },
      );
      expect(capped!.queue).toMatchObject({ running: 1, depth: 1, limits: { concurrency: 1 }, heldBackBy: 'concurrency' });
      release();
      for (const id of ids) await waitForStatus(invoker, id, ['Succeeded']);
    } finally {
      release();
      await server.close();
      await invoker.close({ timeoutSeconds: 1 });
      await created.cleanup();
    }
  });
});
