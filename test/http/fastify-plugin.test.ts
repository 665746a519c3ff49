/** What only the Fastify plugins do: boot-time errors, Fastify's hooks and inject around a replay. */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createInvoker, InvalidArgumentError, memoryStore, type Invoker } from '../../src/index.js';
import { asyncTrigger, getReplayContext, taskRoutes, type FastifyTriggerOptions } from '../../src/http/fastify.js';
import { waitForStatus } from '../helpers.js';

const ASYNC = { 'x-fc-invocation-type': 'Async' };
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

function setup(): { app: FastifyInstance; invoker: Invoker } {
  const invoker = createInvoker({ store: memoryStore() });
  const app = Fastify();
  closers.push(() => invoker.close(), () => app.close());
  return { app, invoker };
}

async function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ port: 0, host: '127.0.0.1' });
}

describe('Fastify plugins', () => {
  it('fail the boot (ready/listen) naming the option: no invoker, a bad option, an unknown one', async () => {
    for (const [options, field] of [
      [{}, 'options.invoker'],
      [{ maxBodyBytes: 0 }, 'options.maxBodyBytes'],
      [{ prefix: '/x' }, 'options.prefix'],
    ] as const) {
      const { app, invoker } = setup();
      const withInvoker = field === 'options.invoker' ? options : { invoker, ...options };
      const booted = app.register(asyncTrigger, withInvoker as FastifyTriggerOptions).ready();
      await expect(booted).rejects.toThrow(InvalidArgumentError);
      await expect(booted).rejects.toThrow(field);
    }
    const { app } = setup();
    await expect(app.register(taskRoutes, {} as never).ready()).rejects.toThrow('options.invoker');
  });

  it('replays through Fastify hooks: an auth hook before the trigger lets replays in with getReplayContext(request)', async () => {
    const { app, invoker } = setup();
    const seen: unknown[] = [];
    // The README's pattern: authenticate the client's request; a replay carries no credentials.
    app.addHook('onRequest', async (request, reply) => {
      if (!getReplayContext(request) && request.headers.authorization !== 'Bearer ok') return reply.code(401).send({ denied: true });
    });
    await app.register(asyncTrigger, { invoker });
    app.addHook('preHandler', async (request) => void seen.push(getReplayContext(request)?.requestId ?? 'client'));
    app.post('/work', async (request) => ({ got: request.body, replay: getReplayContext(request.raw) ?? null }));
    const url = await listen(app);

    expect((await fetch(`${url}/work`, { method: 'POST', headers: ASYNC })).status).toBe(401);
    const res = await fetch(`${url}/work`, {
      method: 'POST',
      headers: { ...ASYNC, authorization: 'Bearer ok', 'content-type': 'application/json' },
      body: '{"n":1}',
    });
    expect(res.status).toBe(202);
    const { requestId } = (await res.json()) as { requestId: string };
    const record = await waitForStatus(invoker, requestId, ['Succeeded']);
    expect(record.result).toMatchObject({
      statusCode: 200,
      body: { got: { n: 1 }, replay: { requestId, functionName: 'http', attempt: 1 } },
    });
    // The async request never reached preHandler (answered in onRequest); its replay did.
    expect(seen).toEqual([requestId]);
  });

  it("accepts async requests sent with Fastify's own inject(), and the task routes answer it too", async () => {
    const { app, invoker } = setup();
    await app.register(asyncTrigger, { invoker });
    await app.register(taskRoutes, { invoker, prefix: '/admin' });
    app.get('/job', async () => ({ done: true }));
    const accepted = await app.inject({ method: 'GET', url: '/job', headers: ASYNC });
    expect(accepted.statusCode).toBe(202);
    const requestId = accepted.headers['x-fc-request-id'] as string;
    await waitForStatus(invoker, requestId, ['Succeeded']);
    const record = await app.inject({ method: 'GET', url: `/admin/invocations/${requestId}` });
    expect(record.json()).toMatchObject({ requestId, status: 'Succeeded', result: { body: { done: true } } });
    // Other paths under the prefix are Fastify's 404.
    expect((await app.inject({ method: 'GET', url: '/admin/other' })).statusCode).toBe(404);
  });
});
