/**
 * `logs`, against each durable store: printing a log, and `--follow` tailing an invocation a
 * worker in this process runs, gated by the test: the command must print the first line while
 * the handler waits, then the last one, then exit 0 by itself once the invocation is final.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createInvoker, type Invoker } from '../../src/invoker.js';
import type { InvocationLogLine } from '../../src/invocation-logs.js';
import { waitForStatus } from '../helpers.js';
import { assertBuilt, expectOneLineError, runCli, startCli } from './run-cli.js';
import { STORES, type StoreFixture } from './stores.js';

/** Child processes on a shared 2-core machine: a case that runs the CLI several times gets room (a bound, not a measurement). */
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

/** A promise the test resolves: the handler waits on it. */
function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

describe.each(STORES)('async-invoker logs on $name', ({ make }) => {
  let fixture: StoreFixture;
  let worker: Invoker;
  const gates = new Map<string, ReturnType<typeof gate>>();
  const cli = (...args: string[]) => runCli([...args, '--store', fixture.url]);

  beforeAll(() => {
    assertBuilt();
    fixture = make();
    worker = createInvoker({ store: fixture.open(), concurrency: 4 });
    worker.on('error', () => {});
    worker.register('chatty', (payload: { lines: number }, ctx) => {
      for (let i = 1; i <= payload.lines; i++) ctx.log.info(`line ${i}`, { i });
      ctx.log.error('the end');
      return null;
    });
    // Logs, waits for the test to open its gate, logs again.
    worker.register('tail', async (payload: { gate: string }, ctx) => {
      ctx.log.info('first');
      await gates.get(payload.gate)!.wait;
      ctx.log.warn('second', { last: true });
      return 'ok';
    });
  });
  afterAll(async () => {
    for (const g of gates.values()) g.open();
    try {
      await worker?.close();
    } finally {
      await fixture.cleanup();
    }
  });

  it('prints every line, in order, as text or JSON Lines; --after skips what was read', async () => {
    const { requestId } = await worker.invokeAsync('chatty', { lines: 3 });
    await waitForStatus(worker, requestId, ['Succeeded']);
    await worker.idle();
    const text = await cli('logs', requestId);
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\S+Z {2}#1 {2}info {3}line 1 \{"i":1\}$/);
    expect(lines[3]).toMatch(/ {2}#1 {2}error {2}the end$/);

    const json = await cli('logs', requestId, '--json');
    const parsed = json.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as InvocationLogLine);
    expect(parsed.map((l) => l.message)).toEqual(['line 1', 'line 2', 'line 3', 'the end']);
    expect(parsed.map((l) => l.seq)).toEqual([1, 2, 3, 4]);
    expect(parsed[0]).toMatchObject({ attempt: 1, level: 'info', data: { i: 1 }, at: expect.any(Number) });

    const after = await cli('logs', requestId, '--json', '--after', '2');
    expect(after.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as InvocationLogLine).seq)).toEqual([3, 4]);
    const none = await cli('logs', requestId, '--after', '4');
    expect([none.code, none.stdout, none.stderr]).toEqual([0, '', 'No log lines after 4.\n']);
  });

  it('--follow prints lines as they come and exits 0 once the invocation is final', async () => {
    gates.set('a', gate());
    const { requestId } = await worker.invokeAsync('tail', { gate: 'a' });
    const following = startCli(['logs', requestId, '--follow', '--store', fixture.url]);
    await following.printed('first');
    expect(following.stdout()).not.toContain('second');
    gates.get('a')!.open();
    const result = await following.exited;
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/#1 {2}info {3}first$/);
    expect(lines[1]).toMatch(/#1 {2}warn {3}second \{"last":true\}$/);
    expect((await worker.getInvocation(requestId))?.status).toBe('Succeeded');
  });

  it('--follow exits 130 on Ctrl-C, quietly, before the invocation ends', async () => {
    gates.set('b', gate());
    const { requestId } = await worker.invokeAsync('tail', { gate: 'b' });
    const following = startCli(['logs', requestId, '-f', '--json', '--store', fixture.url]);
    await following.printed('"first"');
    following.child.kill('SIGINT');
    const result = await following.exited;
    expect([result.code, result.signal, result.stderr]).toEqual([130, null, '']);
    expect((await worker.getInvocation(requestId))?.status).toBe('Running');
    gates.get('b')!.open();
    await waitForStatus(worker, requestId, ['Succeeded']);
  });

  it('exits 4 for an unknown id', async () => {
    for (const args of [['logs', 'no-such-id'], ['logs', 'no-such-id', '--follow']]) {
      const result = await cli(...args);
      expect(result.code, args.join(' ')).toBe(4);
      expect(expectOneLineError(result)).toContain('no invocation with requestId "no-such-id"');
    }
  });
});
