import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { InvalidArgumentError } from '../../src/errors.js';
import type { StoreSignal } from '../../src/stores/contract.js';
import { createInvoker } from '../../src/invoker.js';
import { waitFor, waitForStatus } from '../helpers.js';
import { claimReq, newInvocation, slot, T0, testStore } from './conformance.js';

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

describe.runIf(available)('postgres', () => {
  testStore({
    name: 'postgres',
    shared: true,
    create: (options) => postgresStore({ connectionString: url, schema, max: 4, ...options }),
    // Keeps the migrated schema; each test starts from an empty table.
    cleanup: async () => {
      await admin.query(`truncate "${schema}".invocations`).catch((error: { code?: string }) => {
        if (error.code !== '42P01') throw error; // not created yet
      });
    },
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

      it('listens again after its LISTEN connection is cut', async () => {
        const producer = await open();
        const consumer = await open();
        const signals: StoreSignal[] = [];
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
          expect(rows).toEqual([{ id: 1, name: '001_invocations.sql' }]);
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
  });
});
