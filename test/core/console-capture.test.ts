/** captureConsole: a handler's console output also goes to its execution log, and is still printed. */
import { afterAll, expect, it } from 'vitest';
import { createInvoker, fakeClock, memoryStore } from '../../src/index.js';

// Installed before the library wraps the console, so we see what it prints through.
const printed: unknown[][] = [];
const originalLog = console.log;
console.log = (...args: unknown[]) => void printed.push(args);
afterAll(() => {
  console.log = originalLog;
});

it('records what a handler prints with console.* (still printing it), and nothing printed outside handlers', async () => {
  const clock = fakeClock();
  const invoker = createInvoker({ store: memoryStore(), clock });
  invoker.register('legacy', async (p: { user: string }) => {
    console.log('hello %s', p.user);
    await new Promise((resolve) => setImmediate(resolve));
    console.error(new Error('it broke').message);
    return null;
  }, { captureConsole: true });
  invoker.register('quiet', () => {
    console.log('not captured');
    return null;
  });
  try {
    const { requestId } = await invoker.invokeAsync('legacy', { user: 'ada' });
    const other = await invoker.invokeAsync('quiet', {});
    console.log('outside any handler');
    await clock.advance(0);
    await invoker.idle();
    const lines = (await invoker.getInvocationLogs(requestId)).lines;
    expect(lines.map((l) => [l.level, l.message])).toEqual([['info', 'hello ada'], ['error', 'it broke']]);
    expect((await invoker.getInvocationLogs(other.requestId)).lines).toEqual([]);
    expect(printed).toContainEqual(['hello %s', 'ada']);
    expect(printed).toContainEqual(['outside any handler']);
  } finally {
    await invoker.close();
  }
});
