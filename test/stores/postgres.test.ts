import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { InvalidArgumentError, StoreError } from '../../src/errors.js';
import type { StoreBackgroundTask, StoreSignal } from '../../src/stores/contract.js';
import { createInvoker } from '../../src/invoker.js';
import { waitFor, waitForStatus } from '../helpers.js';
import { loadStatements } from '../../src/stores/postgres/statements.js';
import { claimReq, newInvocation, slot, succeed, T0, testStore } from './conformance.js';

const url = process.env.PG_URL ?? 'postgres://root@127.0.0.1:5432/test';
const schema = `ai_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const admin = new pg.Pool({ connectionString: url, max: 2 });
admin.on('error', () => {});

/** In CI the server must be there (the suite fails); elsewhere a missing server skips it. */
const available = await admin.query('select 1').then(
  () => true,
  (error: unknown) => {
    if (process.env.CI) throw error;
    console.warn(`postgres store tests skipped: no PostgreSQL at ${url} (${String(error)})`);
    return false;
  },
);

afterAll(async () => {
  if (available) await admin.query(`drop schema if exists "${schema}" cascade`);
  await admin.end();
});

/** A loopback port where nothing listens: bound by the system, then let go. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
const unreachableUrl = `postgres://root@127.0.0.1:${await deadPort()}/test`;

describe.runIf(available)('postgres', () => {
  testStore({
    name: 'postgres',
    shared: true,
    create: (options) => postgresStore({ connectionString: url, schema, max: 4, ...options }),
    // Keeps the migrated schema; each test starts from an empty table.
    cleanup: async () => {
      await admin.query(`truncate "${schema}".invocations, "${schema}".workers`).catch((error: { code?: string }) => {
        if (error.code !== '42P01') throw error; // not created yet
      });
    },
    unreachable: () => postgresStore({ connectionString: unreachableUrl, schema, operationTimeoutMs: 500 }),
    extra: ({ open }) => {
      it('wakes a store instance in another pool through NOTIFY', async () => {
        const producer = await open();
        const consumer = await open();
        const signals: StoreSignal[] = [];
        consumer.subscribe((s) => signals.push(s));
        // Whatever the consumer misses before LISTEN is in place, the next enqueue reaches it.
        await waitFor(async () => {
          await producer.enqueue([newInvocation({ functionName: 'remote', scheduledAt: T0 + 7 })]);
          return signals.some((s) => s.type === 'due' && s.functionName === 'remote' && s.at === T0 + 7);
        }, { what: 'a due signal from the other instance', timeoutMs: 5000, intervalMs: 50 });
        const [c] = (await producer.claim(claimReq(T0 + 7, [slot('remote', 1)], 1))).items;
        await producer.requestStop({ requestId: c!.record.requestId, now: T0 + 8, deliverOnFailure: false });
        await waitFor(() => signals.some((s) => s.type === 'stop' && s.requestId === c!.record.requestId), {
          what: 'a stop signal from the other instance',
          timeoutMs: 5000,
        });
      });

      it('runs work enqueued by another process at once: the worker is woken by NOTIFY, not polling', async () => {
        const producer = createInvoker({ store: await open(), concurrency: 0 });
        const worker = createInvoker({ store: await open(), concurrency: 4 });
        try {
          producer.register('remote_job', () => null);
          worker.register('remote_job', (payload: { n: number }) => ({ twice: payload.n * 2 }));
          // The worker has found nothing to do and sleeps; wait until its LISTEN is in place.
          await waitFor(async () => {
            const { rows } = await admin.query('select count(*)::int as n from pg_stat_activity where query = $1', [
              `listen "async_invoker_${schema}"`,
            ]);
            return rows[0].n === 1;
          }, { what: 'the worker to LISTEN' });
          const { requestId } = await producer.invokeAsync('remote_job', { n: 21 });
          const done = await waitForStatus(producer, requestId, ['Succeeded'], 5000);
          expect(done.result).toEqual({ twice: 42 });
        } finally {
          await producer.close();
          await worker.close();
        }
      });

      it('listens again after its LISTEN connection is cut, and reports the cut as subscriber', async () => {
        const producer = await open();
        const consumer = await open();
        const signals: StoreSignal[] = [];
        const reported: [unknown, StoreBackgroundTask][] = [];
        consumer.onError((error, during) => reported.push([error, during]));
        consumer.subscribe((s) => signals.push(s));
        const signalFor = (functionName: string) =>
          waitFor(async () => {
            await producer.enqueue([newInvocation({ functionName })]);
            return signals.some((s) => s.type === 'due' && s.functionName === functionName);
          }, { what: `a due signal for ${functionName}`, timeoutMs: 5000, intervalMs: 50 });
        await signalFor('before');
        const cut = await admin.query(
          'select pg_terminate_backend(pid) from pg_stat_activity where query = $1',
          [`listen "async_invoker_${schema}"`],
        );
        expect(cut.rowCount).toBe(1);
        await signalFor('after');
        expect(reported.length).toBeGreaterThan(0);
        for (const [error, during] of reported) {
          expect(during).toBe('subscriber');
          expect(error).toBeInstanceOf(StoreError);
          expect((error as StoreError).message).toMatch(/^postgres store: the LISTEN connection \(wake-ups\) failed: /);
          expect((error as StoreError).cause).toBeDefined();
        }
      });

      it('fails a statement the server does not answer in time with a StoreError, reports the retention pass it held up as prune, and works once the server answers', async () => {
        const store = postgresStore({ connectionString: url, schema, max: 4, operationTimeoutMs: 300 });
        const reported: [unknown, StoreBackgroundTask][] = [];
        store.onError((error, during) => reported.push([error, during]));
        const locker = await admin.connect();
        try {
          await store.get('warm-up'); // migrated: the lock below holds up statements, not the migration
          await locker.query('begin');
          await locker.query(`lock table "${schema}".invocations in access exclusive mode`);
          // The first claim also starts the first retention pass: both wait for the lock.
          const error = await store.claim(claimReq(T0)).then(() => undefined, (e: unknown) => e);
          expect(error).toBeInstanceOf(StoreError);
          expect((error as StoreError).message).toMatch(/^postgres store: claim failed: .*operationTimeoutMs \(300 ms\)/);
          expect((error as StoreError).cause).toBeInstanceOf(Error);
          await waitFor(() => reported.length > 0, { what: 'the failed retention pass to be reported' });
          expect(reported[0]![1]).toBe('prune');
          expect((reported[0]![0] as StoreError).message).toMatch(/^postgres store: a retention pass failed: /);
          await locker.query('rollback');
          const inv = newInvocation();
          expect(await store.enqueue([inv])).toEqual([{ requestId: inv.requestId, outcome: 'created' }]);
          expect((await store.claim(claimReq(T0))).items.map((c) => c.record.requestId)).toEqual([inv.requestId]);
        } finally {
          await locker.query('rollback').catch(() => {});
          locker.release();
          await store.close();
        }
      });

      it('migrates a schema an older version made: its records gain the new columns', async () => {
        const old = `${schema}_old`;
        try {
          const [first] = (await loadStatements(old)).migrations;
          expect(first!.name).toBe('001_invocations.sql');
          await admin.query(`create schema "${old}"`);
          await admin.query(`create table "${old}".migrations (id integer primary key, name text not null, applied_at timestamptz not null default now())`);
          await admin.query(first!.sql);
          await admin.query(`insert into "${old}".migrations (id, name) values (1, '001_invocations.sql')`);
          await admin.query(
            `insert into "${old}".invocations (request_id, function_name, status, payload, created_at, scheduled_at, events, due_at)
             values ('old-1', 'fn', 'Enqueued', '{}', $1, $1, $2, $1)`,
            [T0, JSON.stringify([{ at: T0, status: 'Enqueued', attempt: 0 }])],
          );
          const store = postgresStore({ connectionString: url, schema: old, max: 2 });
          try {
            expect(await store.get('old-1')).toMatchObject({ status: 'Enqueued', lostAttempts: 0, interruptedAttempts: 0 });
            const [c] = (await store.claim(claimReq(T0))).items;
            expect(c!.record.requestId).toBe('old-1');
            await store.announce({ workerId: 'w', functions: ['fn'], host: 'h', pid: 1, concurrency: 1, startedAt: T0, expiresAt: T0 + 1000 });
            expect((await store.workers(T0)).map((w) => w.workerId)).toEqual(['w']);
          } finally {
            await store.close();
          }
        } finally {
          await admin.query(`drop schema if exists "${old}" cascade`);
        }
      });

      it('migrates once when many instances start together, and again is a no-op', async () => {
        const fresh = `${schema}_m`;
        try {
          const stores = Array.from({ length: 4 }, () => postgresStore({ connectionString: url, schema: fresh, max: 2 }));
          await Promise.all(stores.map((s) => s.get('x')));
          await Promise.all(stores.map((s) => s.close()));
          const again = postgresStore({ connectionString: url, schema: fresh, max: 2 });
          expect(await again.get('x')).toBeUndefined();
          await again.close();
          const { rows } = await admin.query(`select id, name from "${fresh}".migrations order by id`);
          expect(rows).toEqual([
            { id: 1, name: '001_invocations.sql' },
            { id: 2, name: '002_presence_and_counters.sql' },
          ]);
        } finally {
          await admin.query(`drop schema if exists "${fresh}" cascade`);
        }
      });

      it('uses a pool passed in and leaves it open on close', async () => {
        const pool = new pg.Pool({ connectionString: url, max: 3 });
        const store = postgresStore({ pool, schema });
        const inv = newInvocation({ payload: null });
        await store.enqueue([inv]);
        expect(await store.get(inv.requestId)).toMatchObject({ payload: null });
        await store.close();
        expect((await pool.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
        await pool.end();
      });

      it('keeps a JSON null result apart from no result', async () => {
        const store = await open();
        const inv = newInvocation();
        await store.enqueue([inv]);
        const [c] = (await store.claim(claimReq(T0))).items;
        await store.settle([{ requestId: inv.requestId, leaseToken: c!.leaseToken, status: 'Succeeded', events: [], dueAt: null, result: null }]);
        const record = await store.get(inv.requestId);
        expect('result' in record!).toBe(true);
        expect(record!.result).toBeNull();
        const untouched = newInvocation();
        await store.enqueue([untouched]);
        expect('result' in (await store.get(untouched.requestId))!).toBe(false);
      });
    },
  });

  it('validates options, naming the field', () => {
    expect(() => postgresStore({ schema: 'bad; drop table x' })).toThrow(InvalidArgumentError);
    expect(() => postgresStore({ schema: 'bad; drop table x' })).toThrow(/options\.schema/);
    expect(() => postgresStore({ max: 0 })).toThrow(/options\.max must be an integer from 2 to 1000; received 0/);
    expect(() => postgresStore({ connectionString: url, pool: new pg.Pool() })).toThrow(/options\.connectionString/);
    expect(() => postgresStore({ nope: 1 } as never)).toThrow(/options\.nope/);
    expect(() => postgresStore({ operationTimeoutMs: 50 })).toThrow(/options\.operationTimeoutMs must be an integer from 100 to 600000; received 50/);
    expect(() => postgresStore({ operationTimeoutMs: 1.5 })).toThrow(/options\.operationTimeoutMs/);
    expect(() => postgresStore({ retention: { maxCount: -1 } })).toThrow(/options\.retention\.maxCount/);
  });
});
