// The server goes away under load and comes back: a private PostgreSQL (postgres-private-server.ts)
// is stopped with -m immediate while a producer enqueues and two workers run, then started again
// on the same data. Every call accepted must end Succeeded, every call refused must be a
// StoreError (none may hang: a hang fails by the test's timeout), the workers must resume on their
// own, and nothing may be printed. Driven by counts and conditions, never by durations.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { createInvoker, type Invoker } from '../../src/invoker.js';
import { StoreError } from '../../src/errors.js';
import type { Store, StoreBackgroundTask, StoreSignal } from '../../src/stores/contract.js';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { waitFor } from '../helpers.js';
import { postgresBinDir, PrivateServer } from './postgres-private-server.js';

const bin = postgresBinDir();
if (!bin && process.env.CI) throw new Error('postgres outage test: no PostgreSQL binaries (initdb, pg_ctl); set PG_BIN');
if (!bin) console.warn('postgres outage test skipped: no PostgreSQL binaries (initdb, pg_ctl); set PG_BIN');

const SCHEMA = 'outage';
/** Invocations accepted before the stop, and again after the restart. */
const PER_PHASE = 300;
/** Calls refused while the server is down. */
const REFUSED = 20;

let server: PrivateServer | undefined;

beforeAll(async () => {
  if (bin) server = await PrivateServer.create(bin);
}, 120_000);

afterAll(async () => {
  await server?.destroy();
}, 60_000);

/** Everything this process prints while `run` runs: stderr, console, process warnings. */
async function capturePrinted<T>(run: () => Promise<T>): Promise<{ value: T; printed: string[] }> {
  const printed: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    printed.push(`stderr: ${String(chunk)}`);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof process.stderr.write;
  const onWarning = (warning: Error) => printed.push(`warning: ${warning.message}`);
  process.on('warning', onWarning);
  const spies = (['error', 'warn', 'log', 'info', 'debug'] as const).map((method) =>
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      printed.push(`console.${method}: ${args.map(String).join(' ')}`);
    }),
  );
  try {
    return { value: await run(), printed };
  } finally {
    process.stderr.write = write;
    process.off('warning', onWarning);
    for (const spy of spies) spy.mockRestore();
  }
}

interface Worker {
  readonly invoker: Invoker;
  readonly store: Store;
  /** Handler runs since the restart. */
  runsAfterRestart: number;
}

describe.runIf(bin !== undefined)('postgres: the server stopped with -m immediate under load, then started again', () => {
  it('accepted work all succeeds, refused calls are StoreErrors, workers resume by themselves, nothing is printed', async () => {
    const url = server!.url;
    const storeOptions = { connectionString: url, schema: SCHEMA, max: 4, operationTimeoutMs: 2000 } as const;
    const admin = new pg.Pool({ connectionString: url, max: 1 });
    admin.on('error', () => {});
    let restarted = false;
    const storeReports: [unknown, StoreBackgroundTask][] = [];
    const invokerErrors: unknown[] = [];

    const newWorker = (): Worker => {
      const store = postgresStore(storeOptions);
      store.onError((error, during) => storeReports.push([error, during]));
      const invoker = createInvoker({ store, concurrency: 8, leaseSeconds: 2 });
      invoker.on('error', (e) => invokerErrors.push(e.error));
      const worker: Worker = { invoker, store, runsAfterRestart: 0 };
      invoker.register(
        'job',
        (payload: { n: number }) => {
          if (restarted) worker.runsAfterRestart++;
          return { n: payload.n };
        },
        // Attempts lost to the outage (a settle that failed, a lease that lapsed) are retried.
        { maxAsyncRetryAttempts: 8, retryBackoff: { initialDelayMs: 50, maxDelayMs: 500 } },
      );
      return worker;
    };

    const { printed } = await capturePrinted(async () => {
      const producer = createInvoker({ store: postgresStore(storeOptions), concurrency: 0 });
      producer.register('job', () => null);
      producer.on('error', (e) => invokerErrors.push(e.error));
      const workers = [newWorker(), newWorker()];
      const accepted: string[] = [];
      const refused: unknown[] = [];
      let acceptedAfterRestart = 0;
      let producing = true;
      // Batches of 10 calls at once, a turn apart, for as long as the test runs.
      const producing$ = (async () => {
        for (let n = 0; producing; ) {
          const calls = Array.from({ length: 10 }, () => producer.invokeAsync('job', { n: n++ }));
          for (const outcome of await Promise.allSettled(calls)) {
            if (outcome.status === 'fulfilled') {
              accepted.push(outcome.value.requestId);
              if (restarted) acceptedAfterRestart++;
            } else {
              refused.push(outcome.reason);
            }
          }
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })();
      const checker = new pg.Pool({ connectionString: url, max: 1 });
      checker.on('error', () => {});
      try {
        // Running under load: work accepted and work done.
        await waitFor(async () => accepted.length >= PER_PHASE && (await succeededAmong(admin, accepted)) >= PER_PHASE / 3, {
          what: 'the first phase to run',
          timeoutMs: 60_000,
          intervalMs: 50,
        });
        await admin.end();
        await server!.kill();
        const refusedBefore = refused.length;
        await waitFor(() => refused.length >= refusedBefore + REFUSED, { what: 'calls to be refused while the server is down', timeoutMs: 60_000 });
        await server!.start();
        restarted = true;
        // Nobody pokes the workers: they must find the server again on their own.
        await waitFor(() => acceptedAfterRestart >= PER_PHASE && workers.every((w) => w.runsAfterRestart > 0), {
          what: 'the producer and both workers to resume',
          timeoutMs: 60_000,
          intervalMs: 50,
        });
        producing = false;
        await producing$;
        await waitFor(async () => (await succeededAmong(checker, accepted)) === accepted.length, {
          what: `all ${accepted.length} accepted invocations to succeed`,
          timeoutMs: 60_000,
          intervalMs: 200,
        });
        // The workers' LISTEN connections came back on their own (a producer does not listen).
        await waitFor(async () => {
          const { rows } = await checker.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where query = $1', [
            `listen "async_invoker_${SCHEMA}"`,
          ]);
          return rows[0]!.n >= workers.length;
        }, { what: 'the workers to LISTEN again', timeoutMs: 30_000, intervalMs: 100 });
      } finally {
        producing = false;
        await producing$;
        await checker.end();
        await admin.end().catch(() => {}); // ended already unless the first phase failed
        await producer.close();
        for (const w of workers) await w.invoker.close();
      }
      expect(refused.length).toBeGreaterThanOrEqual(REFUSED);
      for (const error of refused) {
        expect(error).toBeInstanceOf(StoreError);
        expect((error as StoreError).message).toMatch(/^postgres store: enqueue failed: /);
        expect((error as StoreError).cause).toBeDefined();
      }
      return undefined;
    });

    // What the workers' stores and invokers reported along the way: StoreErrors, and the lost
    // LISTEN connections among them.
    for (const error of invokerErrors) expect(error).toBeInstanceOf(StoreError);
    for (const [error] of storeReports) expect(error).toBeInstanceOf(StoreError);
    expect(storeReports.some(([, during]) => during === 'subscriber')).toBe(true);
    expect(printed).toEqual([]);
  }, 240_000);
});

describe.runIf(bin !== undefined)('postgres: a store that starts while the server is down', () => {
  it('fails calls with StoreError, reports the LISTEN attempts as subscriber, and wakes its workers once the server is up', async () => {
    await server!.kill();
    const store = postgresStore({ connectionString: server!.url, schema: SCHEMA, operationTimeoutMs: 1000 });
    const reported: StoreBackgroundTask[] = [];
    store.onError((error, during) => {
      expect(error).toBeInstanceOf(StoreError);
      reported.push(during);
    });
    const signals: StoreSignal[] = [];
    store.subscribe((signal) => signals.push(signal));
    try {
      const slots = [{ functionName: 'late', limit: 1, maxEventAgeMs: 60_000 }];
      const error = await store.claim({ now: Date.now(), leaseMs: 1000, limit: 1, slots }).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      await waitFor(() => reported.includes('subscriber'), { what: 'a failed LISTEN attempt to be reported' });
      await server!.start();
      // Wake-ups sent before LISTEN was in place were missed: the store wakes what it claims for.
      await waitFor(() => signals.some((s) => s.type === 'due' && s.functionName === 'late'), {
        what: 'a wake-up for the function it claims for',
        timeoutMs: 30_000,
      });
    } finally {
      await store.close();
    }
  }, 60_000);
});

/** How many of `ids` are Succeeded, read on the private server. */
async function succeededAmong(pool: pg.Pool, ids: readonly string[]): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `select count(*)::int as n from "${SCHEMA}".invocations where status = 'Succeeded' and request_id = any($1)`,
    [ids],
  );
  return rows[0]!.n;
}
