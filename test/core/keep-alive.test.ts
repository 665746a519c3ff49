import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Runs `code` as an ES module inside the package (so 'async-invoker' resolves to dist/). */
function start(code: string) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const said = (text: string) =>
    new Promise<void>((resolve) => {
      const check = () => (out.includes(text) ? resolve() : child.stdout.once('data', check));
      check();
    });
  return { child, exited, said, output: () => out };
}

describe('keepAlive', () => {
  it('a worker invoker keeps its process alive until close()', async () => {
    const p = start(`
      import { createInvoker, memoryStore } from 'async-invoker';
      const invoker = createInvoker({ store: memoryStore(), concurrency: 1 });
      invoker.register('f', () => {});
      process.stdin.once('data', async () => { await invoker.close(); console.log('closed'); process.stdin.pause(); });
      process.stdin.unref?.();
      console.log('ready');
    `);
    await p.said('ready');
    // Still running: it is waiting on stdin only because the invoker holds the loop (stdin is unref'd).
    expect(p.child.exitCode).toBe(null);
    p.child.stdin.write('close\n');
    expect(await p.exited).toBe(0);
    expect(p.output()).toContain('closed');
  });

  it('keepAlive: false and producer-only invokers let the process exit on its own', async () => {
    const p = start(`
      import { createInvoker, memoryStore } from 'async-invoker';
      const store = memoryStore();
      createInvoker({ store, concurrency: 1, keepAlive: false }).register('f', () => {});
      createInvoker({ store, concurrency: 0 }).register('f', () => {});
      console.log('ready');
    `);
    p.child.stdin.end();
    expect(await p.exited).toBe(0);
    expect(p.output()).toContain('ready');
  });
});
