/**
 * Every settlement the worker writes has one object shape (the same properties, unset ones
 * undefined), a limited function's too: V8 then reads them through one hidden class in the
 * stores' encoders. A spread that added `wake` to a settlement built without it made a second,
 * slower shape (the Redis encoder ran 4x slower on them at concurrency 64).
 */
import { expect, it } from 'vitest';
import { createInvoker, memoryStore } from '../../src/index.js';
import type { Settlement } from '../../src/stores/contract.js';

it('gives the settlements of limited and unlimited functions, succeeded, retried and failed, the same properties', async () => {
  const store = memoryStore();
  const written: Settlement[] = [];
  const immediate = store.immediate!;
  const settle = immediate.settle.bind(immediate);
  (immediate as { settle: typeof settle }).settle = (items) => {
    written.push(...items);
    return settle(items);
  };
  const invoker = createInvoker({ store, concurrency: 4 });
  const fail = (payload: { fail: boolean }) => {
    if (payload.fail) throw new Error('no');
    return 'ok';
  };
  invoker.register('plain', fail, { maxAsyncRetryAttempts: 1, retryBackoff: { initialDelayMs: 0 } });
  invoker.register('limited', fail, { maxAsyncRetryAttempts: 1, retryBackoff: { initialDelayMs: 0 }, limits: { concurrency: 2 } });
  for (const name of ['plain', 'limited']) {
    await invoker.invokeAsync(name, { fail: false });
    await invoker.invokeAsync(name, { fail: true });
  }
  await invoker.idle();
  await invoker.close();
  // Each function: a success, a retry and a final failure.
  expect(written.map((s) => s.status).sort()).toEqual(['Failed', 'Failed', 'Retrying', 'Retrying', 'Succeeded', 'Succeeded']);
  expect(written.filter((s) => s.wake).length).toBe(3);
  const shapes = new Set(written.map((s) => Object.keys(s).join(',')));
  expect([...shapes]).toHaveLength(1);
  expect([...shapes][0]).toContain('wake');
});
