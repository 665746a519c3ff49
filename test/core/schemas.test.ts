/** Typed functions at run time: payload schemas at the call and when due (Invalid), result schemas. */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createInvoker,
  fakeClock,
  InvalidArgumentError,
  memoryStore,
  type DestinationRecord,
  type Invoker,
} from '../../src/index.js';

let open: Invoker[] = [];
afterEach(async () => {
  await Promise.all(open.map((i) => i.close({ timeoutSeconds: 1 })));
  open = [];
});

const video = z.object({ url: z.string().url(), quality: z.enum(['sd', 'hd']).default('sd') });

describe('payload schemas', () => {
  it('refuses a payload the schema rejects with every zod issue, storing nothing', async () => {
    const invoker = createInvoker({ store: memoryStore(), clock: fakeClock(), concurrency: 0 });
    open.push(invoker);
    invoker.register('transcode', (p) => p.url, { payload: video });
    const error = await invoker.invokeAsync('transcode', { url: 'not a url', quality: 'uhd' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    const e = error as InvalidArgumentError;
    expect(e.field).toBe('payload');
    expect(e.issues.map((i) => i.path.join('.')).sort()).toEqual(['quality', 'url']);
    expect(e.message).toMatch(/payload must be a payload function "transcode" accepts \(payload\.url: .*; payload\.quality: /);
    expect((await invoker.listInvocations()).items).toEqual([]);
    await expect(invoker.invoke('transcode', { url: 1 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('stores the payload as given and hands the handler the parsed value (defaults applied)', async () => {
    const clock = fakeClock();
    const invoker = createInvoker({ store: memoryStore(), clock });
    open.push(invoker);
    const seen: unknown[] = [];
    invoker.register('transcode', (p) => {
      seen.push(p);
      return p.quality;
    }, { payload: video });
    const { requestId } = await invoker.invokeAsync('transcode', { url: 'https://example.com/a.mov' });
    await clock.advance(0);
    await invoker.idle();
    expect(seen).toEqual([{ url: 'https://example.com/a.mov', quality: 'sd' }]);
    expect(await invoker.getInvocation(requestId)).toMatchObject({ status: 'Succeeded', payload: { url: 'https://example.com/a.mov' }, result: 'sd' });
    expect(await invoker.invoke('transcode', { url: 'https://example.com/b.mov', quality: 'hd' })).toBe('hd');
  });

  it('ends Invalid, without running, a stored payload the schema no longer accepts, and delivers onFailure', async () => {
    const clock = fakeClock();
    const store = memoryStore();
    // The producer deployed before the schema gained a required field.
    const producer = createInvoker({ store, clock, concurrency: 0 });
    open.push(producer);
    producer.register('transcode', () => null);
    const { requestId } = await producer.invokeAsync('transcode', { url: 'https://example.com/a.mov' });
    const worker = createInvoker({ store, clock });
    open.push(worker);
    const failures: DestinationRecord[] = [];
    const invalid: string[] = [];
    worker.on('invalid', (e) => invalid.push(`${e.requestId}:${e.condition}`));
    let ran = false;
    worker.register('transcode', () => {
      ran = true;
      return null;
    }, { payload: video.extend({ bitrate: z.number() }), destinations: { onFailure: (record) => void failures.push(record) } });
    await clock.advance(0);
    await worker.idle();
    expect(ran).toBe(false);
    const record = (await worker.getInvocation(requestId))!;
    expect(record).toMatchObject({ status: 'Invalid', condition: 'InvalidPayload', error: { errorType: 'InvalidPayload' } });
    expect(record.error!.errorMessage).toMatch(/payload\.bitrate/);
    expect(invalid).toEqual([`${requestId}:InvalidPayload`]);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.requestContext).toMatchObject({ requestId, condition: 'InvalidPayload' });
    expect(worker.metrics().functions.transcode!.FunctionInvalidCount).toBe(1);
  });
});

describe('result schemas', () => {
  it('fails an attempt whose result the schema rejects, without retrying it', async () => {
    const clock = fakeClock();
    const invoker = createInvoker({ store: memoryStore(), clock });
    open.push(invoker);
    let calls = 0;
    invoker.register('measure', () => {
      calls++;
      return { seconds: 'many' };
    }, { result: z.object({ seconds: z.number() }), maxAsyncRetryAttempts: 3 });
    const { requestId } = await invoker.invokeAsync('measure', {});
    await clock.advance(0);
    await invoker.idle();
    await clock.advance(60_000);
    await invoker.idle();
    expect(calls).toBe(1);
    const record = (await invoker.getInvocation(requestId))!;
    expect(record).toMatchObject({ status: 'Failed', condition: 'HandledInvocationError', error: { errorType: 'InvalidResult' } });
    expect(record.error!.errorMessage).toMatch(/result\.seconds/);
  });
});
