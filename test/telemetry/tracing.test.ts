/**
 * OpenTelemetry: one trace from the call that enqueued to each attempt and the destinations,
 * after the messaging semantic conventions; metrics; nothing when tracing is off.
 */
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { asyncTrigger } from '../../src/http/express.js';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createInvoker, fakeClock, httpDestination, memoryStore, type Invoker, type Store } from '../../src/index.js';
import { sqliteStore } from '../../src/stores/sqlite/index.js';
import { redisStore } from '../../src/stores/redis/index.js';
import { postgresStore } from '../../src/stores/postgres/index.js';
import pg from 'pg';
import { dropPrefix, REDIS_URL } from '../stores/redis-server.js';
import { waitFor } from '../helpers.js';
import { parentOf, registerOtel, type Otel } from './otel-setup.js';

let otel: Otel;
const dir = mkdtempSync(join(tmpdir(), 'async-invoker-otel-'));
let files = 0;
let open: Invoker[] = [];
beforeAll(() => {
  otel = registerOtel();
});
afterAll(async () => {
  for (let i = 0; i < files; i++) await dropPrefix(`${prefix}-${i}`);
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  for (const schema of schemas) await admin.query(`drop schema if exists "${schema}" cascade`);
  await admin.end();
  await otel.shutdown();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(open.map((i) => i.close({ timeoutSeconds: 1 })));
  open = [];
  otel.reset();
});

const prefix = `otel${process.pid}`;
const PG_URL = 'postgres://root@127.0.0.1:5432/test';
const schemas: string[] = [];
/** A schema of its own on the shared PostgreSQL, dropped after the file. */
function pgSchema(): string {
  const schema = `otel_${process.pid}_${files++}`;
  schemas.push(schema);
  return schema;
}
const stores: [string, () => Store][] = [
  ['memory', () => memoryStore()],
  ['sqlite', () => sqliteStore({ path: join(dir, `otel-${files++}.db`) })],
  ['redis', () => redisStore({ url: REDIS_URL, prefix: `${prefix}-${files++}` })],
  ['postgres', () => postgresStore({ connectionString: PG_URL, schema: pgSchema() })],
];

describe.each(stores)('spans on the %s store', (_name, makeStore) => {
  it('one trace: send, a process span per attempt (the handler\'s spans inside), the destination delivery and the destination\'s own spans', async () => {
    const clock = fakeClock();
    const invoker = createInvoker({ store: makeStore(), clock });
    open.push(invoker);
    const inner = trace.getTracer('user-code');
    invoker.register('notify', () => 'notified');
    invoker.register('transcode', (_p, ctx) => {
      inner.startSpan('ffmpeg').end(); // the user's own span, under the attempt
      if (ctx.attempt === 1) throw new Error('first attempt fails');
      return 'done';
    }, { retryBackoff: { initialDelayMs: 100, jitter: 'none' }, destinations: { onSuccess: { function: 'notify' } } });
    const root = inner.startSpan('request');
    const { requestId } = await context.with(trace.setSpan(context.active(), root), () =>
      invoker.invokeAsync('transcode', { url: 'x' }, { invocationId: 'job_1' }),
    );
    root.end();
    // The fake clock moves on while waiting: the retry becomes due whenever the first attempt's
    // settlement lands, however long a store takes to write it.
    await waitFor(
      async () => {
        await clock.advance(50);
        return (await invoker.listInvocations({ functionName: 'notify', status: 'Succeeded' })).items.length === 1;
      },
      { what: 'notify to run' },
    );
    await invoker.idle();
    const spans = otel.spans();
    const named = (name: string) => spans.filter((s) => s.name === name);
    const [send] = named('send transcode');
    const processes = named('process transcode').sort((a, b) => Number(a.attributes['async_invoker.attempt']) - Number(b.attributes['async_invoker.attempt']));
    const [deliver] = named('deliver transcode');
    const [sendNotify] = named('send notify');
    const [processNotify] = named('process notify');
    const ffmpeg = named('ffmpeg');
    expect([send, deliver, sendNotify, processNotify].every(Boolean)).toBe(true);
    expect(processes).toHaveLength(2);
    // One trace, from the caller's span down to the destination's attempt.
    const traceId = root.spanContext().traceId;
    for (const span of [send!, ...processes, deliver!, sendNotify!, processNotify!, ...ffmpeg]) expect(span.spanContext().traceId, span.name).toBe(traceId);
    expect(parentOf(send!)).toBe(root.spanContext().spanId);
    expect(send!.kind).toBe(SpanKind.PRODUCER);
    expect(send!.attributes).toMatchObject({
      'messaging.system': 'async-invoker',
      'messaging.destination.name': 'transcode',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.message.id': requestId,
      'async_invoker.invocation.id': 'job_1',
    });
    for (const [i, p] of processes.entries()) {
      expect(p.kind).toBe(SpanKind.CONSUMER);
      expect(parentOf(p)).toBe(send!.spanContext().spanId);
      expect(p.links.map((l) => l.context.spanId)).toEqual([send!.spanContext().spanId]);
      expect(p.attributes).toMatchObject({ 'messaging.operation.type': 'process', 'messaging.message.id': requestId, 'async_invoker.attempt': i + 1 });
    }
    expect(processes[0]!.status.code).toBe(2); // ERROR
    expect(processes[0]!.attributes).toMatchObject({ 'error.type': 'Error', 'async_invoker.condition': 'UnhandledInvocationError' });
    expect(processes[1]!.status.code).not.toBe(2);
    // The handler's own spans nest under its attempt.
    expect(ffmpeg.map(parentOf).sort()).toEqual(processes.map((p) => p.spanContext().spanId).sort());
    expect(deliver!.attributes).toMatchObject({ 'async_invoker.destination.target': 'onSuccess', 'async_invoker.destination.kind': 'function', 'async_invoker.destination.name': 'notify' });
    expect(parentOf(sendNotify!)).toBe(deliver!.spanContext().spanId);
    expect(parentOf(processNotify!)).toBe(sendNotify!.spanContext().spanId);
  });
});

describe('trace context across processes and HTTP', () => {
  it('puts the delivery\'s traceparent on a webhook request', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const clock = fakeClock();
      const invoker = createInvoker({ store: memoryStore(), clock });
      open.push(invoker);
      const port = (server.address() as AddressInfo).port;
      invoker.register('hook', () => 'ok', { destinations: { onSuccess: httpDestination(`http://127.0.0.1:${port}/done`, { allowPrivateNetwork: true }) } });
      await invoker.invokeAsync('hook', {});
      await clock.advance(0);
      await waitFor(() => seen.length === 1, { what: 'the webhook' });
      await invoker.idle();
      const [deliver] = otel.spans().filter((s) => s.name === 'deliver hook');
      const { traceId, spanId } = deliver!.spanContext();
      expect(seen[0]!.traceparent).toBe(`00-${traceId}-${spanId}-01`);
    } finally {
      server.close();
    }
  });
});

describe('off', () => {
  it('makes no spans with tracing: false', async () => {
    const clock = fakeClock();
    const invoker = createInvoker({ store: memoryStore(), clock, tracing: false });
    open.push(invoker);
    invoker.register('quiet', () => null);
    await invoker.invokeAsync('quiet', {});
    await clock.advance(0);
    await invoker.idle();
    expect(otel.spans()).toEqual([]);
    expect((await invoker.listInvocations()).items[0]).toMatchObject({ status: 'Succeeded' });
  });
});

describe('metrics', () => {
  it('reports the Function Compute counters and histograms of queue wait, run time and end to end', async () => {
    const clock = fakeClock();
    const invoker = createInvoker({ store: memoryStore(), clock });
    open.push(invoker);
    invoker.register('measured', (p: { fail: boolean }) => {
      if (p.fail) throw new Error('no');
      return null;
    }, { maxAsyncRetryAttempts: 0 });
    await invoker.invokeAsync('measured', { fail: false });
    await invoker.invokeAsync('measured', { fail: true });
    await clock.advance(0);
    await invoker.idle();
    const collected = await otel.collect();
    const points = new Map<string, { value: unknown; attributes: Record<string, unknown> }[]>();
    for (const scope of collected.scopeMetrics) {
      for (const metric of scope.metrics) {
        points.set(metric.descriptor.name, metric.dataPoints.map((d) => ({ value: d.value, attributes: d.attributes as Record<string, unknown> })));
      }
    }
    const counter = (name: string) => points.get(name)?.find((p) => p.attributes['messaging.destination.name'] === 'measured')?.value;
    expect(counter('FunctionEnqueueCount')).toBe(2);
    expect(counter('FunctionSucceededCount')).toBe(1);
    expect(counter('FunctionFailedCount')).toBe(1);
    const mine = (name: string) => (points.get(name) ?? []).filter((p) => p.attributes['messaging.destination.name'] === 'measured');
    const count = (name: string) => mine(name).reduce((n, p) => n + ((p.value as { count?: number }).count ?? 0), 0);
    expect(count('async_invoker.queue_wait')).toBe(2);
    expect(count('async_invoker.run_time')).toBe(2);
    expect(count('async_invoker.end_to_end')).toBe(2);
    expect(mine('async_invoker.end_to_end').map((p) => p.attributes['async_invoker.outcome']).sort()).toEqual(['Failed', 'Succeeded']);
  });
});

describe('a worker in another process', () => {
  it('continues the trace from the context stored with the invocation', async () => {
    if (!existsSync(fileURLToPath(new URL('../../dist/index.js', import.meta.url)))) throw new Error('run npm run build first');
    const path = join(dir, 'shared.db');
    const producer = createInvoker({ store: sqliteStore({ path }), concurrency: 0 });
    open.push(producer);
    producer.register('remote', () => null);
    const child = fork(fileURLToPath(new URL('./worker.mjs', import.meta.url)), [path], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const messages: { ready?: boolean; spans?: { name: string; traceId: string; spanId: string; parentSpanId?: string }[] }[] = [];
    child.on('message', (m) => messages.push(m as (typeof messages)[number]));
    try {
      await waitFor(() => messages.some((m) => m.ready), { what: 'the worker process' });
      const { requestId } = await producer.invokeAsync('remote', { n: 1 });
      await waitFor(() => messages.some((m) => m.spans), { what: 'the worker\'s spans', timeoutMs: 20_000 });
      const [send] = otel.spans().filter((s) => s.name === 'send remote');
      const remote = messages.find((m) => m.spans)!.spans!;
      const process = remote.find((s) => s.name === 'process remote')!;
      const inside = remote.find((s) => s.name === 'inside')!;
      expect(process.traceId).toBe(send!.spanContext().traceId);
      expect(process.parentSpanId).toBe(send!.spanContext().spanId);
      expect(inside).toMatchObject({ traceId: send!.spanContext().traceId, parentSpanId: process.spanId });
      expect(await producer.getInvocation(requestId)).toMatchObject({ status: 'Succeeded', result: 'ran remotely' });
    } finally {
      child.kill();
    }
  }, 40_000);
});

describe('the HTTP trigger', () => {
  it('continues the incoming request\'s traceparent, and the replayed request carries the attempt\'s', async () => {
    const clock = fakeClock();
    const invoker = createInvoker({ store: memoryStore(), clock });
    open.push(invoker);
    const replayed: (string | undefined)[] = [];
    const app = express();
    app.use(asyncTrigger(invoker, { app }));
    app.post('/upload', (req, res) => {
      replayed.push(req.get('traceparent'));
      res.json({ ok: true });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const incomingTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
      const incomingSpan = '00f067aa0ba902b7';
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`, {
        method: 'POST',
        headers: { 'x-fc-invocation-type': 'Async', 'content-type': 'application/json', traceparent: `00-${incomingTrace}-${incomingSpan}-01` },
        body: '{}',
      });
      expect(res.status).toBe(202);
      await clock.advance(0);
      await waitFor(() => replayed.length === 1, { what: 'the replay' });
      await invoker.idle();
      const [send] = otel.spans().filter((s) => s.name === 'send http');
      const [process] = otel.spans().filter((s) => s.name === 'process http');
      expect(send!.spanContext().traceId).toBe(incomingTrace);
      expect(parentOf(send!)).toBe(incomingSpan);
      expect(process!.spanContext().traceId).toBe(incomingTrace);
      expect(replayed[0]).toBe(`00-${incomingTrace}-${process!.spanContext().spanId}-01`);
    } finally {
      server.close();
    }
  });
});
