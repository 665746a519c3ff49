/** Payload limits and what is refused (or normalised), the same on every store. */
import { afterEach, describe, expect, it } from 'vitest';
import { createInvoker, fakeClock, InvalidArgumentError, memoryStore, PayloadTooLargeError, type Invoker } from '../../src/index.js';

let open: Invoker[] = [];
afterEach(async () => {
  await Promise.all(open.map((i) => i.close({ timeoutSeconds: 1 })));
  open = [];
});

function producer(options: { maxPayloadBytes?: number } = {}): Invoker {
  const invoker = createInvoker({ store: memoryStore(), concurrency: 0, ...options });
  open.push(invoker);
  invoker.register('f', () => null);
  invoker.register('small', () => null, { maxPayloadBytes: 2048 });
  return invoker;
}

async function refused(invoker: Invoker, payload: unknown, fn = 'f'): Promise<InvalidArgumentError> {
  const error = await invoker.invokeAsync(fn, payload as never).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect((await invoker.listInvocations()).items).toEqual([]);
  return error as InvalidArgumentError;
}

describe('payload size', () => {
  it('refuses more than 128 KB of JSON by default, measured in UTF-8 bytes, storing nothing', async () => {
    const invoker = producer();
    // 'é' is 2 bytes: 65,534 of them and the quotes make 131,070 bytes; two more characters pass 131,072.
    await invoker.invokeAsync('f', 'é'.repeat(65_535));
    await invoker.close();
    open = [];
    const fresh = producer();
    const error = await refused(fresh, 'é'.repeat(65_536));
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({ size: 131_074, limit: 131_072, field: 'payload' });
    expect(error.message).toMatch(/payload must be at most 131072 bytes of JSON \(maxPayloadBytes\)/);
  });

  it('takes the function\'s limit over the invoker\'s, and the invoker\'s over the default', async () => {
    expect(await refused(producer(), { text: 'x'.repeat(3000) }, 'small')).toBeInstanceOf(PayloadTooLargeError);
    const big = producer({ maxPayloadBytes: 1_048_576 });
    await big.invokeAsync('f', 'x'.repeat(500_000));
    await expect(big.invoke('f', 'x'.repeat(1_100_000))).rejects.toBeInstanceOf(PayloadTooLargeError);
    expect(() => createInvoker({ store: memoryStore(), maxPayloadBytes: 100 })).toThrow(/options\.maxPayloadBytes must be an integer from 1024 to 8388608/);
  });
});

describe('values every store can hold', () => {
  it.each([
    ['a lone high surrogate', { name: 'bad \ud800 text' }, /payload\.name must be a string of well-formed Unicode/],
    ['a lone low surrogate in a key', { ['k\udc00']: 1 }, /must be a key of well-formed Unicode/],
    ['U+0000', { s: 'nul\u0000byte' }, /payload\.s must be a string without U\+0000/],
    ['a __proto__ key', JSON.parse('{"a":{"__proto__":{"polluted":true}}}'), /payload\.a\.__proto__ must be an object without a __proto__ key/],
    ['a constructor.prototype path', { constructor: { prototype: { polluted: true } } }, /payload\.constructor\.prototype must be an object without a constructor\.prototype path/],
    ['NaN', { n: Number.NaN }, /payload\.n must be a JSON value \(finite numbers only\)/],
    ['Infinity', [1, Infinity], /payload\[1\] must be a JSON value \(finite numbers only\)/],
    ['a bigint', { n: 10n }, /payload\.n must be a JSON value/],
    ['a Date', { when: new Date(0) }, /payload\.when must be a JSON value \(plain objects and arrays only; a Date as date\.toISOString\(\)\)/],
    ['a cycle', (() => { const a: Record<string, unknown> = {}; a.self = a; return a; })(), /payload\.self must be a JSON value without cycles/],
  ])('refuses %s, naming the path', async (_what, payload, message) => {
    const error = await refused(producer(), payload);
    expect(error.message).toMatch(message);
  });

  it('accepts one object in two places (not a cycle), and names the path of a cycle deep in an array', async () => {
    const shared = { w: 1920 };
    const invoker = producer();
    await invoker.invokeAsync('f', { a: shared, b: [shared, { c: shared }] } as never);
    await invoker.close();
    open = [];
    const looped: unknown[] = [1];
    looped.push({ z: looped });
    expect((await refused(producer(), { list: looped })).message).toMatch(/payload\.list\[1\]\.z must be a JSON value without cycles/);
  });

  it('refuses nesting deeper than 100 levels and accepts 100', async () => {
    const nest = (depth: number) => {
      let value: unknown = 1;
      for (let i = 0; i < depth; i++) value = [value];
      return value;
    };
    const invoker = producer();
    await invoker.invokeAsync('f', nest(100) as never);
    await invoker.close();
    open = [];
    expect((await refused(producer(), nest(101))).message).toMatch(/nested at most 100 levels deep/);
  });

  it('keeps a plain constructor key and drops undefined properties, as JSON does', async () => {
    const clock = fakeClock();
    const invoker = createInvoker({ store: memoryStore(), clock });
    open.push(invoker);
    invoker.register('echo', (p: unknown) => p as never);
    const { requestId } = await invoker.invokeAsync('echo', { constructor: 'Toyota', gone: undefined, n: -0 });
    await clock.advance(0);
    await invoker.idle();
    expect(await invoker.getInvocation(requestId)).toMatchObject({ status: 'Succeeded', result: { constructor: 'Toyota' } });
  });
});

describe('what handlers produce', () => {
  it('fails, without retrying, a result no store can hold; stores error text and log lines normalised', async () => {
    const clock = fakeClock();
    const invoker = createInvoker({ store: memoryStore(), clock });
    open.push(invoker);
    let calls = 0;
    invoker.register('dated', () => {
      calls++;
      return { when: new Date(0) } as never;
    });
    invoker.register('noisy', (_p, ctx) => {
      ctx.log.info('nul\u0000 and lone \ud800', { s: 'x\u0000y' });
      throw new Error('broken\u0000message \udfff');
    }, { maxAsyncRetryAttempts: 0 });
    const dated = await invoker.invokeAsync('dated', {});
    const noisy = await invoker.invokeAsync('noisy', {});
    await clock.advance(0);
    await invoker.idle();
    expect(calls).toBe(1);
    expect(await invoker.getInvocation(dated.requestId)).toMatchObject({ status: 'Failed', error: { errorType: 'InvalidResult' } });
    const failed = (await invoker.getInvocation(noisy.requestId))!;
    expect(failed.error!.errorMessage).toBe('broken\uFFFDmessage \uFFFD');
    const [line] = (await invoker.getInvocationLogs(noisy.requestId)).lines;
    expect(line).toMatchObject({ message: 'nul\uFFFD and lone \uFFFD', data: { s: 'x\uFFFDy' } });
  });
});
