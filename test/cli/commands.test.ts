/** list, show, stop, rerun and stats, run as a child process against each durable store seeded through the library. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { InvocationRecord } from '../../src/types.js';
import type { StatsReport } from '../../src/cli/stats-report.js';
import { createInvoker } from '../../src/invoker.js';
import { waitFor } from '../helpers.js';
import { assertBuilt, expectOneLineError, runCli, runJson } from './run-cli.js';
import { producer, seed, type Seeded } from './seed.js';
import { STORES, type StoreFixture } from './stores.js';

/** Child processes on a shared 2-core machine: a case that runs the CLI several times gets room (a bound, not a measurement). */
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

interface Page {
  items: InvocationRecord[];
  nextCursor?: string;
}

describe.each(STORES)('the command line on $name', ({ make }) => {
  let fixture: StoreFixture;
  let seeded: Seeded;
  const cli = (...args: string[]) => runCli([...args, '--store', fixture.url]);
  const json = <T>(...args: string[]) => runJson<T>([...args, '--store', fixture.url]);
  /** The record as the library reads it, through a store of the test's own. */
  const read = async (requestId: string) => {
    const invoker = producer(fixture.open());
    try {
      return await invoker.getInvocation(requestId);
    } finally {
      await invoker.close();
    }
  };

  beforeAll(async () => {
    assertBuilt();
    fixture = make();
    seeded = await seed(fixture.open());
  });
  afterAll(() => fixture.cleanup());

  describe('list', () => {
    it('prints { items, nextCursor } newest first with --json', async () => {
      const page = await json<Page>('list', '--until', String(seeded.until));
      expect(Object.keys(page)).toEqual(['items']);
      expect(page.items.map((r) => r.requestId).sort()).toEqual([...seeded.reports, ...seeded.ok, seeded.bad, seeded.later].sort());
      const created = page.items.map((r) => r.createdAt);
      expect(created).toEqual([...created].sort((a, b) => b - a));
      expect(page.items.find((r) => r.requestId === seeded.bad)).toMatchObject({ functionName: 'bad', status: 'Failed', attempts: 1 });
    });

    // Up to the end of the seed (unless the case sets --until): what other cases add is left out.
    const ids = async (...args: string[]) => {
      const until = args.includes('--until') ? [] : ['--until', String(seeded.until)];
      return (await json<Page>('list', ...until, ...args)).items.map((r) => r.requestId).sort();
    };
    const expected: Record<string, (s: Seeded) => string[]> = {
      reports: (s) => s.reports,
      ok: (s) => s.ok,
      bad: (s) => [s.bad],
      'ok+bad': (s) => [...s.ok, s.bad],
      recent: (s) => [...s.ok, s.bad, s.later],
    };
    it.each([
      [['--function', 'ok'], 'ok'],
      [['--status', 'Failed'], 'bad'],
      [['--status', 'succeeded,failed'], 'ok+bad'],
      [['--status', 'Succeeded', '--status', 'Failed'], 'ok+bad'],
      [['--id-prefix', 'imp_'], 'ok'],
      [['--since', '1h'], 'recent'],
      [['--until', '1h'], 'reports'],
      [['--since', '3h', '--until', '90m', '--function', 'report'], 'reports'],
    ])('filters: %j', async (args, which) => {
      expect(await ids(...args)).toEqual([...expected[which]!(seeded)].sort());
    });

    it('takes ISO times', async () => {
      const since = new Date(Date.now() - 3 * 3_600_000).toISOString();
      const until = new Date(Date.now() - 3_600_000).toISOString();
      expect(await ids('--since', since, '--until', until)).toEqual([...seeded.reports].sort());
    });

    it('pages with --limit and --cursor, each invocation once', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page: Page = await json<Page>('list', '--until', String(seeded.until), '--limit', '3', ...(cursor ? ['--cursor', cursor] : []));
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((r) => r.requestId));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== undefined && pages < 10);
      expect(seen.sort()).toEqual([...seeded.reports, ...seeded.ok, seeded.bad, seeded.later].sort());
    });

    it('prints an aligned table, and the next cursor on stderr', async () => {
      const result = await cli('list', '--until', String(seeded.until), '--limit', '4');
      expect(result.code).toBe(0);
      const lines = result.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^REQUEST ID\s+FUNCTION\s+STATUS\s+ATTEMPTS\s+CREATED\s+TOOK\s+INVOCATION ID\s+DETAIL$/);
      expect(lines).toHaveLength(5);
      const statusColumn = lines[0]!.indexOf('STATUS');
      for (const line of lines.slice(1)) expect(line.slice(statusColumn)).toMatch(/^(Enqueued|Succeeded|Failed) /);
      expect(result.stderr).toMatch(/^More: add --cursor \S+\n$/);
      const iso = await cli('list', '--function', 'bad', '--iso');
      expect(iso.stdout).toContain(seeded.bad);
      expect(iso.stdout).toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/);
      expect(iso.stdout).toContain('Error: the upstream said no');
    });

    it('says so when nothing matches', async () => {
      const result = await cli('list', '--function', 'nothing_here');
      expect([result.code, result.stdout]).toEqual([0, 'No invocations match.\n']);
      expect((await json<Page>('list', '--function', 'nothing_here')).items).toEqual([]);
    });
  });

  describe('show', () => {
    it('prints the record exactly as the API returns it with --json', async () => {
      const record = await json<InvocationRecord>('show', seeded.bad);
      expect(record).toEqual(JSON.parse(JSON.stringify(await read(seeded.bad))));
      expect(record).toMatchObject({ status: 'Failed', condition: 'UnhandledInvocationError', error: { errorMessage: 'the upstream said no' } });
    });

    it('prints status, attempts, times, payload, outcome and the events timeline', async () => {
      const result = await cli('show', seeded.ok[0]!);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Request ID\s+\S+$/m);
      expect(result.stdout).toMatch(/^Status\s+Succeeded$/m);
      expect(result.stdout).toMatch(/^Attempts\s+1$/m);
      expect(result.stdout).toMatch(/^Invocation ID\s+imp_1$/m);
      expect(result.stdout).toMatch(/^Ended\s+\d{4}-\S+Z \(.*took .*\)$/m);
      expect(result.stdout).toMatch(/^Result\s+\{\n\s+"done": 1\n\s+\}$/m);
      expect(result.stdout).toMatch(/^Events\n\s+AT\s+STATUS\s+ATTEMPT\s+DETAIL\n.*Enqueued\s+0\n.*Running\s+1\n.*Succeeded\s+1$/m);
      const failed = await cli('show', seeded.bad);
      expect(failed.stdout).toMatch(/^Status\s+Failed \(UnhandledInvocationError\)$/m);
      expect(failed.stdout).toMatch(/^Error\s+Error: the upstream said no$/m);
    });

    it('finds an invocation by --function and --invocation-id', async () => {
      const record = await json<InvocationRecord>('show', '--function', 'ok', '--invocation-id', 'imp_2');
      expect(record.requestId).toBe(seeded.ok[1]);
    });

    it('shows the paths given to --redact as "[redacted]", and refuses paths that are not one', async () => {
      const record = await json<InvocationRecord>('show', seeded.bad, '--redact', 'payload.order, result.x');
      expect(record.payload).toEqual({ order: '[redacted]' });
      const text = await cli('show', seeded.bad, '--redact', 'payload.order');
      expect(text.stdout).toMatch(/^Payload\s+\{\n\s+"order": "\[redacted\]"\n\s+\}$/m);
      expect(text.stdout).not.toMatch(/"order": 7/);
      const bad = await cli('show', seeded.bad, '--redact', 'order');
      expect(bad.code).toBe(2);
      expect(expectOneLineError(bad)).toMatch(/--redact\.0 must be a path starting with payload\., result\. or log\./);
    });

    it('exits 4 for an unknown id', async () => {
      for (const args of [['show', 'no-such-id'], ['show', '--function', 'ok', '--invocation-id', 'imp_404']]) {
        const result = await cli(...args);
        expect(result.code, args.join(' ')).toBe(4);
        expect(expectOneLineError(result)).toMatch(/^async-invoker show: no invocation with (requestId "no-such-id"|invocationId "imp_404" of function "ok")/);
      }
    });
  });

  describe('stop', () => {
    it('stops a waiting invocation, and says so when it had already finished', async () => {
      const first = await cli('stop', seeded.later);
      expect([first.code, first.stdout, first.stderr]).toEqual([0, `Stopped ${seeded.later}\n`, '']);
      expect((await read(seeded.later))?.status).toBe('Stopped');
      const again = await json<{ requestId: string; status: string }>('stop', seeded.later);
      expect(again).toEqual({ requestId: seeded.later, status: 'Stopped' });
      const done = await cli('stop', seeded.ok[0]!);
      expect([done.code, done.stdout]).toEqual([0, `${seeded.ok[0]} had already finished (Succeeded); nothing to stop\n`]);
    });

    it('exits 4 for an unknown id', async () => {
      const result = await cli('stop', 'no-such-id');
      expect(result.code).toBe(4);
      expectOneLineError(result);
    });
  });

  describe('rerun', () => {
    it('re-runs a finished invocation and prints the new request id alone', async () => {
      const result = await cli('rerun', seeded.bad);
      expect(result.code).toBe(0);
      const requestId = result.stdout.trim();
      expect(result.stdout).toBe(`${requestId}\n`);
      expect(await read(requestId)).toMatchObject({ functionName: 'bad', payload: { order: 7 }, rerunOf: seeded.bad, status: 'Enqueued' });
      // Again (each re-run is a new invocation), for scripts.
      const again = await json<{ requestId: string }>('rerun', seeded.bad);
      expect(Object.keys(again)).toEqual(['requestId']);
      expect(again.requestId).not.toBe(requestId);
      expect((await read(again.requestId))?.rerunOf).toBe(seeded.bad);
    });

    it('exits 5 for an invocation that has not finished, 4 for an unknown id', async () => {
      const waiting = await cli('rerun', seeded.reports[0]!);
      expect(waiting.code).toBe(5);
      expect(expectOneLineError(waiting)).toContain('is Enqueued; only a finished invocation');
      const unknown = await cli('rerun', 'no-such-id');
      expect(unknown.code).toBe(4);
    });
  });

  describe('stats', () => {
    it('reports the queue, the last hour and the live workers', async () => {
      // A live worker for `ok` only: `report` waits with nobody to run it.
      const worker = createInvoker({ store: fixture.open(), concurrency: 1 });
      worker.on('error', () => {});
      worker.register('ok', () => null);
      try {
        await waitFor(async () => (await worker.store.workers(Date.now())).length === 1, { what: 'the worker to announce itself' });
        const report = await json<StatsReport>('stats');
        expect(Object.keys(report).sort()).toEqual(['at', 'functions', 'total', 'window', 'workers']);
        expect(report.window.until - report.window.since).toBe(3_600_000);
        expect(report.functions.report).toMatchObject({ waiting: 3, running: 0, unserved: 3 });
        expect(report.functions.report!.oldestPendingAgeMs).toBeGreaterThanOrEqual(2 * 3_600_000 - 60_000);
        expect(report.functions.ok!.finished).toEqual({ Succeeded: 2 });
        expect(report.functions.bad!.finished).toMatchObject({ Failed: 1 });
        for (const times of [report.functions.ok!.queueWaitMs, report.functions.ok!.runTimeMs]) {
          expect(times.p50).toEqual(expect.any(Number));
          expect(times.p95).toBeGreaterThanOrEqual(times.p50!);
        }
        expect(report.total.finished.Succeeded).toBe(2);
        expect(report.workers).toHaveLength(1);
        expect(report.workers[0]).toMatchObject({ functions: ['ok'], pid: process.pid, concurrency: 1 });

        const table = await cli('stats');
        expect(table.code).toBe(0);
        expect(table.stdout).toMatch(/^FUNCTION\s+WAITING\s+RUNNING\s+OLDEST WAITING\s+UNSERVED\s+SUCCEEDED\s+FAILED\s+OTHER\s+WAIT p50\/p95\s+RUN p50\/p95$/m);
        expect(table.stdout).toMatch(/^report\s+3\s+0\s+2h\b.*\s3\s+0\s+0\s+0\s+-\s+-$/m);
        expect(table.stdout).toMatch(/^Live workers: 1$/m);
        expect(table.stdout).toMatch(/^\d+ waiting invocation\(s\) belong to functions no live worker runs/m);

        const one = await json<StatsReport>('stats', '--function', 'ok');
        expect(Object.keys(one.functions)).toEqual(['ok']);
      } finally {
        await worker.close();
      }
    });
  });
});
