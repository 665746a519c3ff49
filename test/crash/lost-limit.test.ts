/**
 * An invocation that kills its worker every time: each lost attempt is retried without spending
 * maxAsyncRetryAttempts, and after maxLostAttempts the next worker to recover it ends it Failed
 * (WorkerLost) instead of handing it to yet another worker.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { CRASH_TEST_TIMEOUT_MS } from './harness.js';
import { createInvoker } from '../../src/invoker.js';
import { sqliteStore } from '../../src/stores/sqlite/index.js';

const dir = mkdtempSync(join(tmpdir(), 'async-invoker-lost-limit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const WORKER = fileURLToPath(new URL('./suicide-worker.mjs', import.meta.url));

/** Starts a worker; resolves with it once it is ready, and with how it ended once it exits. */
function startWorker(path: string, maxLost: number): Promise<{ child: ChildProcess; ended: Promise<string> }> {
  const child = fork(WORKER, [path, String(maxLost)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ended = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? String(code))));
  return new Promise((resolve) => child.once('message', () => resolve({ child, ended })));
}

it('fails an invocation that kills its worker every time after maxLostAttempts, never spending its retries', async () => {
  if (!existsSync(fileURLToPath(new URL('../../dist/stores/sqlite/index.js', import.meta.url)))) throw new Error('run npm run build first');
  const path = join(dir, 'lost.db');
  const store = sqliteStore({ path });
  const producer = createInvoker({ store, concurrency: 0 });
  producer.register('suicidal', () => null);
  try {
    const { requestId } = await producer.invokeAsync('suicidal', {});
    const maxLost = 2;
    const endings: string[] = [];
    const failed = async () => (await producer.getInvocation(requestId))?.status === 'Failed';
    // Workers one after the other, as a supervisor restarts them, until the invocation ends.
    for (let started = 0; !(await failed()); started++) {
      expect(started, 'workers started').toBeLessThan(10);
      const { child, ended } = await startWorker(path, maxLost);
      // Whichever comes first: the worker dies, or the invocation is final (then the poll stops).
      const outcome = await new Promise<string>((resolve, reject) => {
        let over = false;
        void ended.then((how) => {
          over = true;
          resolve(how);
        });
        void (async () => {
          while (!over) {
            if (await failed()) {
              over = true;
              resolve('final');
            } else await new Promise((r) => setTimeout(r, 20));
          }
        })().catch(reject);
      });
      if (outcome === 'final') {
        child.kill('SIGTERM');
        endings.push(await ended);
      } else {
        endings.push(outcome);
      }
    }
    const record = (await producer.getInvocation(requestId))!;
    expect(record).toMatchObject({ status: 'Failed', condition: 'UnhandledInvocationError', error: { errorType: 'WorkerLost' } });
    // Attempts 1..3 each killed a worker; the third loss is one past the bound.
    expect(record.attempts).toBe(maxLost + 1);
    expect(endings.filter((e) => e === 'SIGKILL')).toHaveLength(maxLost + 1);
    expect(record.events.filter((e) => e.status === 'Retrying').map((e) => e.detail?.split(':')[0])).toEqual(['WorkerLost', 'WorkerLost']);
    expect(record.events.at(-1)!.detail).toMatch(/3 attempts lost to dead workers; maxLostAttempts is 2/);
  } finally {
    await producer.close();
  }
}, CRASH_TEST_TIMEOUT_MS);
