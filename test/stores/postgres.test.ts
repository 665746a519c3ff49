import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { InvalidArgumentError, StoreError } from '../../src/errors.js';
import { DURATION_BUCKETS_MS, type ActivityEntry, type LogAppend, type StoreBackgroundTask, type StoreSignal } from '../../src/stores/contract.js';
import { memoryStore } from '../../src/stores/memory.js';
import { appendLogsParam } from '../../src/stores/postgres/rows.js';
import { createInvoker } from '../../src/invoker.js';
import { waitFor, waitForStatus } from '../helpers.js';
import { loadStatements } from '../../src/stores/postgres/statements.js';
import { claimReq, newInvocation, slot, succeed, T0, testStore } from './conformance.js';
import { logLineBytes } from '../../src/stores/logs.js';
import { planNodes } from './postgres-plans.js';

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
      const tables = ['invocations', 'workers', 'log_counters', 'logs', 'activity', 'limit_starts', 'limit_groups', 'limit_functions']
        .map((t) => `"${schema}".${t}`)
        .join(', ');
      await admin.query(`truncate ${tables}`).catch((error: { code?: string }) => {
        if (error.code !== '42P01' && error.code !== '3F000') throw error; // not created yet
      });
    },
    unreachable: () => postgresStore({ connectionString: unreachableUrl, schema, operationTimeoutMs: 500 }),
    extra: ({ open, pair }) => {
      /** Lines `from`..`from + n - 1` of attempt 1, each `line N`. */
      const logLines = (n: number, from = 0): LogAppend['lines'] =>
        Array.from({ length: n }, (_, i) => ({ at: T0 + from + i, attempt: 1, level: 'info' as const, message: `line ${from + i}` }));

      /** Runs append-logs.sql for `items` in a transaction of its own, left open: another process mid-append. */
      async function appendHeld(items: LogAppend[]): Promise<{ client: pg.PoolClient; pid: number }> {
        const { statements } = await loadStatements(schema);
        const client = await admin.connect();
        const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
        await client.query('begin');
        await client.query(statements['append-logs'], [appendLogsParam(items)]);
        return { client, pid: rows[0]!.pid };
      }

      /** Waits until a statement waits for a lock `pid` holds (it has taken its snapshot). */
      const waitingFor = (pid: number) =>
        waitFor(async () => {
          const { rows } = await admin.query('select count(*)::int as n from pg_stat_activity where $1 = any(pg_blocking_pids(pid))', [pid]);
          return rows[0].n > 0;
        }, { what: 'the append to wait for the other one' });

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

      it('claims again before answering when a slot of a function it held back freed while the claim ran', async () => {
        const [a, b] = await pair();
        const slot = { functionName: 'lim', limit: 10, maxEventAgeMs: 86_400_000, limits: { concurrency: 1, perSecond: 100 } };
        const [first, second] = [newInvocation({ functionName: 'lim' }), newInvocation({ functionName: 'lim', createdAt: T0 + 1 })];
        await a.enqueue([first, second]);
        const [running] = (await a.claim(claimReq(T0 + 2, [slot]))).items;
        const heard: string[] = [];
        b.subscribe((s) => s.type === 'due' && heard.push(s.functionName));
        await waitFor(async () => {
          await a.enqueue([newInvocation({ functionName: 'probe' })]);
          return heard.includes('probe');
        }, { what: 'b to listen', intervalMs: 20 });
        // Hold b's claim after it has read the running attempts (its statement waits to drop a
        // start row another transaction holds), free the slot in a, and only then let b go on:
        // b read the slot taken, and must not answer "held back" past the wake-up it heard.
        await admin.query(`insert into "${schema}".limit_starts (function_name, at) values ('lim', $1)`, [T0 - 60_000]);
        const locker = await admin.connect();
        try {
          const { rows } = await locker.query<{ pid: number }>('select pg_backend_pid() as pid');
          await locker.query('begin');
          await locker.query(`delete from "${schema}".limit_starts where function_name = 'lim'`);
          const claiming = b.claim(claimReq(T0 + 3, [slot]));
          await waitingFor(rows[0]!.pid);
          await a.settle([{ ...succeed(first.requestId, running!.leaseToken, T0 + 3), wake: true }]);
          await waitFor(() => heard.includes('lim'), { what: 'the wake-up to reach b' });
          await locker.query('commit');
          const claimed = await claiming;
          expect(claimed.items.map((c) => c.record.requestId)).toEqual([second.requestId]);
          expect(claimed.heldBack).toBeUndefined();
        } finally {
          await locker.query('rollback').catch(() => {});
          locker.release();
        }
      });

      it('never lets claims racing from two instances run more than limits.concurrency at once', async () => {
        const [a, b] = await pair();
        const slot = { functionName: 'lim', limit: 4, maxEventAgeMs: 86_400_000, limits: { concurrency: 3 } };
        await a.enqueue(Array.from({ length: 30 }, (_, i) => newInvocation({ functionName: 'lim', createdAt: T0 + i })));
        const seen = new Set<string>();
        for (let round = 0; seen.size < 30; round++) {
          expect(round, 'rounds before every invocation ran').toBeLessThan(30);
          // Claims that read the function at once: some find their snapshot stale and decide again.
          const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).claim(claimReq(T0 + 100 + round, [slot]))));
          const taken = claims.flatMap((c) => c.items);
          expect(taken.length).toBeLessThanOrEqual(3);
          for (const c of taken) {
            expect(seen.has(c.record.requestId)).toBe(false);
            seen.add(c.record.requestId);
          }
          await a.settle(taken.map((c) => ({ ...succeed(c.record.requestId, c.leaseToken, T0 + 100 + round), wake: true })));
        }
      });

      it('counts a limited function\'s running attempts through the work index, never the status index (full of settled row versions under load), leaving out the ended through one hash', async () => {
        const store = await open();
        // As under load: attempts claimed and settled by the thousand (each leaves a Running row
        // version in the status index until a vacuum), statistics taken while 16 of them ran.
        const total = 6000;
        await store.enqueue(Array.from({ length: total }, (_, i) => newInvocation({ createdAt: T0 + i })));
        for (let done = 0, round = 0; done < total; round++) {
          const at = T0 + total + round;
          const { items: claimed } = await store.claim(claimReq(at, [slot('fn', 16)], 16));
          if (round === 200) await admin.query(`analyze ${schema}.invocations`);
          await store.settle(claimed.map((c) => succeed(c.record.requestId, c.leaseToken, at)));
          done += claimed.length;
        }
        await store.enqueue([newInvocation({ createdAt: T0 + 2 * total })]);
        const { statements } = await loadStatements(schema);
        const now = T0 + 3 * total;
        // Under load a worker names hundreds of ended attempts (every settlement batch on the way).
        const ended = Array.from({ length: 300 }, (_, i) => `token-${i}`);
        const plans: { statement: string; mode: string; indexes: string[]; filters: string[] }[] = [];
        const client = await admin.connect();
        try {
          for (const mode of ['force_custom_plan', 'force_generic_plan']) {
            await client.query(`set plan_cache_mode = ${mode}`);
            for (const [name, values] of [
              ['limit-fast', ['fn', 16, 86_400_000, now, 30_000, 16, null, ended]],
              ['limit-state', ['fn', now, true, false, ended]],
            ] as const) {
              await client.query(`prepare probe as ${statements[name]}`);
              // EXECUTE takes no bind parameters: the values as literals.
              const literal = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? `'{${v.join(',')}}'` : typeof v === 'string' ? `'${v}'` : String(v));
              const { rows } = await client.query<{ 'QUERY PLAN': unknown }>(`explain (format json) execute probe(${values.map(literal).join(', ')})`);
              await client.query('deallocate probe');
              const json = JSON.stringify(rows[0]!['QUERY PLAN']);
              plans.push({
                statement: name,
                mode,
                indexes: [...json.matchAll(/"Index Name":"([^"]+)"/g)].map((m) => m[1]!),
                filters: [...json.matchAll(/"Filter":"([^"]*)"/g)].map((m) => m[1]!),
              });
            }
          }
        } finally {
          await client.query('reset plan_cache_mode');
          client.release();
        }
        for (const plan of plans) {
          expect(plan.indexes, `${plan.statement} (${plan.mode})`).toContain('invocations_work_leased');
          expect(plan.indexes, `${plan.statement} (${plan.mode})`).not.toContain('invocations_status');
          // Not "lease_token <> ALL ($n)": each row compared with each ended token (~2 ms a claim at 64).
          expect(plan.filters.join(' | '), `${plan.statement} (${plan.mode})`).toMatch(/NOT \(hashed SubPlan \d+\)/);
          expect(plan.filters.join(' | '), `${plan.statement} (${plan.mode})`).not.toMatch(/lease_token <> ALL/);
        }
      });

      it('writes a batch (claim, settle, settle-and-claim, heartbeat, limited claims) through the primary key, never a scan of the whole table, whatever the statistics say', async () => {
        const store = await open();
        // A table the planner finds small (analyzed): joined to a batch by hash, it would be read
        // whole at every write, a cost that grows with the table and its dead row versions.
        await store.enqueue(Array.from({ length: 3000 }, (_, i) => newInvocation({ createdAt: T0 + i })));
        await admin.query(`analyze ${schema}.invocations`);
        const { statements } = await loadStatements(schema);
        const client = await admin.connect();
        try {
          await client.query('set plan_cache_mode = force_generic_plan');
          for (const [name, values] of [
            ['settle', `'[]', 'channel', 'instance'`],
            ['heartbeat', `'[]', 0`],
            ['claim', `'[]', 0, 0, 0, '{}'`],
            ['settle-claim', `'[]', 0, 0, 0, '{}', '[]', 'channel', 'instance'`],
            ['limit-fast', `'fn', 16, 86400000, 0, 30000, 16, null, '{}'`],
            ['limit-take', `'[]', '{}', 0, 0, 'fn', '{}', '[]', false`],
          ] as const) {
            await client.query(`prepare probe as ${statements[name]}`);
            const { rows } = await client.query<{ 'QUERY PLAN': unknown }>(`explain (format json) execute probe(${values})`);
            await client.query('deallocate probe');
            const reads = planNodes(rows[0]!['QUERY PLAN']).filter((n) => n['Relation Name'] === 'invocations');
            expect.soft(reads.map((n) => n['Node Type']), name).not.toContain('Seq Scan');
            expect.soft(reads.map((n) => n['Index Name']), name).toContain('invocations_pkey');
          }
        } finally {
          await client.query('reset plan_cache_mode');
          client.release();
        }
      });

      it('takes final records owing nothing out of the work index in a limited claim, as the model does', async () => {
        const store = await open();
        const model = memoryStore();
        const slot = { functionName: 'fn', limit: 3, maxEventAgeMs: 86_400_000, limits: { concurrency: 1, perSecond: 5 } };
        // kept's lapsed lease comes first in due order, then waiting, then next (held back).
        const kept = newInvocation();
        const [waiting, next] = [newInvocation({ scheduledAt: T0 + 15 }), newInvocation({ scheduledAt: T0 + 16 })];
        const answers = [];
        for (const s of [model, store]) {
          await s.enqueue([kept, waiting, next]);
          const [c] = (await s.claim(claimReq(T0 + 3, [{ ...slot, limit: 1 }]))).items;
          // Final, its lease kept until T0 + 10: then due, owing nothing.
          await s.settle([{ ...succeed(kept.requestId, c!.leaseToken, T0 + 4), dueAt: T0 + 10, keepLease: true }]);
          const claimed = await s.claim(claimReq(T0 + 20, [slot]));
          answers.push({
            items: claimed.items.map((x) => [x.kind, x.record.requestId]),
            heldBack: claimed.heldBack,
            nextDueAt: claimed.nextDueAt,
            kept: await s.get(kept.requestId).then((r) => [r!.dueAt, r!.leaseToken !== undefined]),
          });
        }
        expect(answers[1]).toEqual(answers[0]);
        expect(answers[1]!.items).toEqual([['run', waiting.requestId]]);
        expect(answers[1]!.heldBack).toMatchObject([{ reason: 'concurrency' }]);
        expect(answers[1]!.kept).toEqual([undefined, false]);
        await model.close();
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
            `insert into "${old}".invocations (request_id, function_name, status, payload, created_at, scheduled_at, events, due_at, invocation_id, payload_key)
             values ('old-1', 'fn', 'Enqueued', '{}', $1, $1, $2, $1, 'order_1', 'k')`,
            [T0, JSON.stringify([{ at: T0, status: 'Enqueued', attempt: 0 }])],
          );
          const store = postgresStore({ connectionString: url, schema: old, max: 2 });
          try {
            expect(await store.get('old-1')).toMatchObject({ status: 'Enqueued', lostAttempts: 0, interruptedAttempts: 0 });
            expect((await store.findByInvocationId('fn', 'order_1'))?.requestId).toBe('old-1');
            // The idempotency index, rebuilt partial (rows with an invocation id only), still holds.
            const repeat = newInvocation({ invocationId: 'order_1', payloadKey: 'k' });
            expect(await store.enqueue([repeat, newInvocation()])).toMatchObject([{ requestId: 'old-1', outcome: 'duplicate' }, { outcome: 'created' }]);
            const { rows: unique } = await admin.query<{ indexdef: string }>(
              `select indexdef from pg_indexes where schemaname = $1 and tablename = 'invocations' and indexdef like 'CREATE UNIQUE%' order by indexname`,
              [old],
            );
            expect(unique.map((r) => r.indexdef.replace(/^.* USING /, ''))).toEqual([
              'btree (function_name, invocation_id) WHERE (invocation_id IS NOT NULL)',
              'btree (request_id)',
            ]);
            expect((await store.list({ limit: 10, invocationIdPrefix: 'order_' })).items.map((r) => r.requestId)).toEqual(['old-1']);
            expect(await store.readLogs('old-1', 0, 10)).toEqual({ lines: [], dropped: 0 });
            await store.appendLogs([{ requestId: 'old-1', lines: logLines(1), maxLines: 10, maxBytes: 1024 }]);
            expect((await store.readLogs('old-1', 0, 10))!.lines.map((l) => l.seq)).toEqual([1]);
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
            { id: 3, name: '003_logs_and_lineage.sql' },
            { id: 4, name: '004_claim_order.sql' },
            { id: 5, name: '005_activity.sql' },
            { id: 6, name: '006_insertion_order.sql' },
            { id: 7, name: '007_limits.sql' },
            { id: 8, name: '008_partial_idempotency.sql' },
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

      it('answers new items, repeats of stored invocations and repeats within the batch in one statement, every column kept', async () => {
        const pool = new pg.Pool({ connectionString: url, max: 3 });
        const store = postgresStore({ pool, schema });
        try {
          const stored = newInvocation({ invocationId: 'bulk_1', payloadKey: 'a' });
          await store.enqueue([stored]);
          let statements = 0;
          pool.on('acquire', () => statements++);
          const fresh = newInvocation({
            functionName: 'other',
            payload: null,
            createdAt: T0 + 1,
            scheduledAt: T0 + 9,
            hops: 3,
            detail: 'from destination',
            rerunOf: stored.requestId,
            traceContext: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01;k=v',
            groupKey: 'tenant "a"',
          });
          const same = newInvocation({ invocationId: 'bulk_1', payloadKey: 'a' });
          const other = newInvocation({ invocationId: 'bulk_1', payloadKey: 'b' });
          const first = newInvocation({ invocationId: 'bulk_2', payloadKey: 'c' });
          const again = newInvocation({ invocationId: 'bulk_2', payloadKey: 'c' });
          const differs = newInvocation({ invocationId: 'bulk_2', payloadKey: 'd' });
          const plain = newInvocation({ payload: [1, { x: 'é\\"' }] });
          expect(await store.enqueue([fresh, same, first, other, again, differs, plain])).toEqual([
            { requestId: fresh.requestId, outcome: 'created' },
            { requestId: stored.requestId, outcome: 'duplicate' },
            { requestId: first.requestId, outcome: 'created' },
            { requestId: stored.requestId, outcome: 'conflict' },
            { requestId: first.requestId, outcome: 'duplicate' },
            { requestId: first.requestId, outcome: 'conflict' },
            { requestId: plain.requestId, outcome: 'created' },
          ]);
          expect(statements).toBe(1);
          expect(await store.get(fresh.requestId)).toEqual({
            requestId: fresh.requestId,
            functionName: 'other',
            status: 'Enqueued',
            payload: null,
            attempts: 0,
            createdAt: T0 + 1,
            scheduledAt: T0 + 9,
            dueAt: T0 + 9,
            events: [{ at: T0 + 1, status: 'Enqueued', attempt: 0, detail: 'from destination' }],
            throttles: 0,
            lostAttempts: 0,
            interruptedAttempts: 0,
            hops: 3,
            rerunOf: stored.requestId,
            traceContext: fresh.traceContext,
            groupKey: 'tenant "a"',
          });
          expect(await store.get(first.requestId)).toMatchObject({ invocationId: 'bulk_2', events: [{ at: T0, status: 'Enqueued', attempt: 0 }] });
          expect((await store.get(plain.requestId))?.payload).toEqual([1, { x: 'é\\"' }]);
          for (const r of [same, other, again, differs]) expect(await store.get(r.requestId)).toBeUndefined();
        } finally {
          await store.close();
          await pool.end();
        }
      });

      it('enqueues a batch without invocation ids as a plain insert, and builds the Enqueued event a batch shares once per statement', async () => {
        const { statements } = await loadStatements(schema);
        // One connection: its prepared statements are the ones the calls below sent.
        const pool = new pg.Pool({ connectionString: url, max: 1 });
        const store = postgresStore({ pool, schema });
        const sent = async () => (await pool.query<{ statement: string }>(`select statement from pg_prepared_statements where name like 'ai\\_%'`)).rows.map((r) => r.statement);
        try {
          const shared = newInvocation();
          const later = newInvocation({ createdAt: T0 + 5 });
          const detailed = newInvocation({ detail: 'from destination' });
          const alsoShared = newInvocation({ functionName: 'other' });
          const batch = [shared, later, detailed, alsoShared];
          expect(await store.enqueue(batch)).toEqual(batch.map((i) => ({ requestId: i.requestId, outcome: 'created' })));
          expect(await sent()).toEqual([statements['enqueue-unkeyed']]);
          expect(statements['enqueue-unkeyed']).not.toMatch(/^\s*on conflict/m);
          const events = async (i: { requestId: string }) => (await store.get(i.requestId))?.events;
          expect(await events(shared)).toEqual([{ at: T0, status: 'Enqueued', attempt: 0 }]);
          expect(await events(later)).toEqual([{ at: T0 + 5, status: 'Enqueued', attempt: 0 }]);
          expect(await events(detailed)).toEqual([{ at: T0, status: 'Enqueued', attempt: 0, detail: 'from destination' }]);
          expect(await events(alsoShared)).toEqual([{ at: T0, status: 'Enqueued', attempt: 0 }]);

          // One item with an invocation id: the statement that answers repeats.
          const keyed = newInvocation({ invocationId: 'k1', payloadKey: 'a' });
          expect(await store.enqueue([newInvocation(), keyed])).toEqual([expect.objectContaining({ outcome: 'created' }), { requestId: keyed.requestId, outcome: 'created' }]);
          expect(await sent()).toContain(statements.enqueue);

          // A request id already taken fails the plain insert, and with it the whole batch.
          const before = newInvocation();
          const after = newInvocation();
          const taken = { ...newInvocation({ functionName: 'third' }), requestId: shared.requestId };
          await expect(store.enqueue([before, taken, after])).rejects.toBeInstanceOf(StoreError);
          for (const i of [before, after]) expect(await store.get(i.requestId)).toBeUndefined();
          expect(await store.get(shared.requestId)).toMatchObject({ functionName: 'fn', payload: shared.payload });

          // Both statements build the shared event in an InitPlan (once), not in the insert's rows.
          const client = await admin.connect();
          try {
            await client.query('set plan_cache_mode = force_generic_plan');
            for (const name of ['enqueue', 'enqueue-unkeyed'] as const) {
              await client.query(`prepare probe as ${statements[name]}`);
              const nulls = Array.from({ length: 14 }, () => 'null').join(', ');
              const { rows } = await client.query<{ 'QUERY PLAN': unknown }>(`explain (format json, verbose) execute probe(${nulls})`);
              await client.query('deallocate probe');
              const nodes = planNodes(rows[0]!['QUERY PLAN']);
              const once = nodes.filter((n) => n['Parent Relationship'] === 'InitPlan').map((n) => String(n['Output']));
              expect.soft(once.some((output) => output.includes('jsonb_build_array')), name).toBe(true);
              const insert = nodes.find((n) => n['Node Type'] === 'ModifyTable');
              expect.soft(insert?.['Conflict Resolution'], name).toBe(name === 'enqueue' ? 'NOTHING' : undefined);
            }
          } finally {
            await client.query('reset plan_cache_mode');
            client.release();
          }
        } finally {
          await store.close();
          await pool.end();
        }
      });

      it('sends the hot path as prepared statements (parsed once per connection), and nothing prepared with preparedStatements: false', async () => {
        const { statements } = await loadStatements(schema);
        for (const preparedStatements of [true, false]) {
          // One connection: it runs every statement below, so its prepared statements are theirs.
          const pool = new pg.Pool({ connectionString: url, max: 1 });
          const store = postgresStore({ pool, schema, preparedStatements });
          try {
            for (let round = 0; round < 2; round++) {
              const inv = newInvocation();
              await store.enqueue([inv]);
              const [c] = (await store.claim(claimReq(T0, [slot('fn', 1)]))).items;
              expect(await store.settle([succeed(inv.requestId, c!.leaseToken, T0 + 1)])).toEqual(['ok']);
              expect(await store.get(inv.requestId)).toMatchObject({ status: 'Succeeded' });
            }
            const { rows } = await pool.query<{ statement: string }>(`select statement from pg_prepared_statements where name like 'ai\\_%'`);
            const prepared = rows.map((r) => r.statement);
            if (preparedStatements) {
              // enqueue-unkeyed: the invocations above have no invocation id.
              for (const name of ['enqueue-unkeyed', 'claim', 'settle', 'get'] as const) expect(prepared.filter((s) => s === statements[name])).toHaveLength(1);
            } else {
              expect(prepared).toEqual([]);
            }
          } finally {
            await store.close();
            await pool.end();
          }
        }
        expect(() => postgresStore({ preparedStatements: 'yes' as never })).toThrow(/options\.preparedStatements/);
      });

      it('gets over a prepared statement that a schema change broke (a rolling deploy): the next call prepares it again', async () => {
        const own = `${schema}_p`;
        const pool = new pg.Pool({ connectionString: url, max: 1 });
        const store = postgresStore({ pool, schema: own });
        try {
          const inv = newInvocation();
          await store.enqueue([inv]);
          expect(await store.get(inv.requestId)).toMatchObject({ status: 'Enqueued' });
          // A column the prepared get returns changes type: its cached plan may no longer run.
          await admin.query(`alter table "${own}".invocations alter column condition type varchar(64)`);
          const first = await store.get(inv.requestId).then(
            (record) => record,
            (error: unknown) => error,
          );
          if (first instanceof Error) expect(first).toBeInstanceOf(StoreError);
          else expect(first).toMatchObject({ status: 'Enqueued' });
          expect(await store.get(inv.requestId)).toMatchObject({ status: 'Enqueued' });
          expect(await store.get(inv.requestId)).toMatchObject({ status: 'Enqueued' });
        } finally {
          await store.close();
          await pool.end();
          await admin.query(`drop schema if exists "${own}" cascade`);
        }
      });

      it('finds the holder of an invocation id that another process committed while the enqueue waited for it', async () => {
        const store = await open();
        await store.get('warm-up');
        const locker = await admin.connect();
        try {
          const { rows } = await locker.query<{ pid: number }>('select pg_backend_pid() as pid');
          await locker.query('begin');
          await locker.query(
            `insert into "${schema}".invocations (request_id, function_name, status, payload, created_at, scheduled_at, events, due_at, invocation_id, payload_key)
             values ('held-1', 'fn', 'Enqueued', '{}', $1, $1, '[]', $1, 'race_2', 'k')`,
            [T0],
          );
          const same = newInvocation({ invocationId: 'race_2', payloadKey: 'k' });
          const other = newInvocation({ invocationId: 'race_2', payloadKey: 'other' });
          const fresh = newInvocation();
          // The enqueue's snapshot predates the holder: it waits for the locker, then skips.
          const answer = store.enqueue([fresh, same, other]);
          await waitingFor(rows[0]!.pid);
          await locker.query('commit');
          expect(await answer).toEqual([
            { requestId: fresh.requestId, outcome: 'created' },
            { requestId: 'held-1', outcome: 'duplicate' },
            { requestId: 'held-1', outcome: 'conflict' },
          ]);
          expect(await store.get(same.requestId)).toBeUndefined();
        } finally {
          await locker.query('rollback').catch(() => {});
          locker.release();
        }
      });

      it('trims again when another process appended to the log while an append waited: the newest lines, exact counts', async () => {
        const store = await open();
        const model = memoryStore();
        const [a, b] = [newInvocation(), newInvocation()];
        for (const s of [store, model]) await s.enqueue([a, b]);
        // a has a log; b has none yet (both processes write its first lines at once).
        const before = { requestId: a.requestId, lines: logLines(5), maxLines: 8, maxBytes: 65_536 };
        await store.appendLogs([before]);
        await model.appendLogs([before]);
        // The other process appends 4 lines to each and has not committed; this store appends 8
        // to each, which leaves room for none of the other's: its snapshot does not see them.
        const other: LogAppend[] = [a, b].map((inv) => ({ requestId: inv.requestId, lines: logLines(4, 10), maxLines: 8, maxBytes: 65_536 }));
        const mine: LogAppend[] = [a, b].map((inv) => ({ requestId: inv.requestId, lines: logLines(8, 20), maxLines: 8, maxBytes: 65_536, dropped: 1 }));
        const held = await appendHeld(other);
        try {
          const appending = store.appendLogs(mine);
          await waitingFor(held.pid);
          await held.client.query('commit');
          await appending;
        } finally {
          held.client.release();
        }
        await model.appendLogs(other);
        await model.appendLogs(mine);
        for (const inv of [a, b]) {
          const page = await store.readLogs(inv.requestId, 0, 100);
          expect(page).toEqual(await model.readLogs(inv.requestId, 0, 100));
          expect(page!.lines.map((l) => l.message)).toEqual(logLines(8, 20).map((l) => l.message));
        }
        // 5 + 4 + 1 (the writer's) + 8 numbered, the newest 8 kept.
        expect((await store.readLogs(a.requestId, 0, 100))!).toMatchObject({ dropped: 10 });
        await model.close();
      });

      it('keeps logs as the memory model does over random appends: bounds that change, repeats in a batch, dropped lines, pages', async () => {
        const store = await open();
        const model = memoryStore();
        const invs = [newInvocation(), newInvocation(), newInvocation()];
        for (const s of [store, model]) await s.enqueue(invs);
        let seed = 7;
        const rand = (n: number) => {
          seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
          return seed % n;
        };
        let next = 0;
        for (let step = 0; step < 60; step++) {
          const batch: LogAppend[] = Array.from({ length: 1 + rand(3) }, () => ({
            requestId: invs[rand(invs.length)]!.requestId,
            lines: Array.from({ length: rand(7) }, () => {
              const n = next++;
              const line = { at: T0 + n, attempt: 1 + rand(2), level: 'info' as const, message: `m${n}`.padEnd(2 + rand(12), '.') };
              return rand(3) ? line : { ...line, data: { n, pad: 'x'.repeat(rand(20)) } };
            }),
            maxLines: 1 + rand(8),
            maxBytes: 20 + rand(80),
            ...(rand(4) ? {} : { dropped: 1 + rand(3) }),
          }));
          await store.appendLogs(batch);
          await model.appendLogs(batch);
          const { requestId } = invs[rand(invs.length)]!;
          const [after, limit] = [rand(next + 2), 1 + rand(6)];
          expect(await store.readLogs(requestId, after, limit), `step ${step}`).toEqual(await model.readLogs(requestId, after, limit));
        }
        for (const { requestId } of invs) expect(await store.readLogs(requestId, 0, 1000)).toEqual(await model.readLogs(requestId, 0, 1000));
        await model.close();
      });

      it('keeps the newest lines within the bounds, numbered without gaps, under appends from two instances at once', async () => {
        const [x, y] = await pair();
        const inv = newInvocation();
        await x.enqueue([inv]);
        const size = logLineBytes({ message: 'line 1000' });
        const rounds = Array.from({ length: 24 }, (_, i) => ({
          requestId: inv.requestId,
          lines: logLines(1 + (i % 4), 1000 + i * 10),
          maxLines: 7,
          maxBytes: size * 5 + 3,
        }));
        await Promise.all(rounds.map((item, i) => (i % 2 ? x : y).appendLogs([item])));
        const logged = rounds.reduce((n, r) => n + r.lines.length, 0);
        const page = (await x.readLogs(inv.requestId, 0, 100))!;
        // Every line is 'line NNNN' (the same size): the byte bound keeps 5, the newest numbers.
        expect(page.lines.map((l) => l.seq)).toEqual([0, 1, 2, 3, 4].map((i) => logged - 4 + i));
        expect(page.dropped).toBe(logged - 5);
        expect(new Set(page.lines.map((l) => l.message)).size).toBe(5);
      });

      it('claims as the memory model does: expired leases and free work in one due order, the total shared out in slot order', async () => {
        const store = await open();
        const model = memoryStore();
        const a = newInvocation({ functionName: 'x' });
        const [b, c] = [newInvocation({ functionName: 'x', createdAt: T0 + 1 }), newInvocation({ functionName: 'y', createdAt: T0 + 2 })];
        const claims = [
          claimReq(T0, [slot('x', 1)], 1, 1000),
          // a's lease lapsed at T0 + 1000, after b became due (T0 + 1): b goes first.
          claimReq(T0 + 2000, [slot('x', 1), slot('y', 1)], 1),
          // y's slot comes first: it takes the one place, though a's lapsed lease is older.
          claimReq(T0 + 2000, [slot('y', 1), slot('x', 1)], 1),
          claimReq(T0 + 2000, [slot('y', 5), slot('x', 5)], 5),
        ];
        const taken: string[][] = [];
        for (const s of [model, store]) {
          await s.enqueue([a]);
          const run: string[] = [];
          for (const [i, req] of claims.entries()) {
            if (i === 1) await s.enqueue([b, c]);
            run.push((await s.claim(req)).items.map((x) => `${x.kind} ${x.record.requestId}`).join(', '));
          }
          taken.push(run);
        }
        expect(taken[1]).toEqual(taken[0]);
        expect(taken[1]).toEqual([`run ${a.requestId}`, `run ${b.requestId}`, `run ${c.requestId}`, `recover ${a.requestId}`]);
        await model.close();
      });

      it('never makes a claim skip an invocation whose lines are being appended', async () => {
        const store = await open();
        const inv = newInvocation();
        await store.enqueue([inv]);
        const held = await appendHeld([{ requestId: inv.requestId, lines: logLines(2), maxLines: 10, maxBytes: 65_536 }]);
        try {
          expect((await store.claim(claimReq(T0))).items.map((c) => c.record.requestId)).toEqual([inv.requestId]);
        } finally {
          await held.client.query('rollback');
          held.client.release();
        }
      });

      it('removes logs with their invocations, leaving no rows behind', async () => {
        const store = await open({ retention: { maxAgeSeconds: 60 } });
        const [done, running] = [newInvocation(), newInvocation()];
        await store.enqueue([done, running]);
        const claimed = (await store.claim(claimReq(T0))).items;
        await store.appendLogs([done, running].map((inv) => ({ requestId: inv.requestId, lines: logLines(3), maxLines: 10, maxBytes: 65_536 })));
        const lease = claimed.find((c) => c.record.requestId === done.requestId)!.leaseToken;
        await store.settle([succeed(done.requestId, lease, T0 + 1)]);
        expect(await store.prune(T0 + 120_000)).toBe(1);
        const count = async (table: string) =>
          (await admin.query(`select request_id, count(*)::int as n from "${schema}".${table} group by request_id`)).rows;
        expect(await count('logs')).toEqual([{ request_id: running.requestId, n: 3 }]);
        expect(await count('log_counters')).toEqual([{ request_id: running.requestId, n: 1 }]);
      });

      it('stores lines PostgreSQL text cannot hold (U+0000, a lone surrogate) with U+FFFD, and the rest of the batch', async () => {
        const store = await open();
        const [a, b] = [newInvocation(), newInvocation()];
        await store.enqueue([a, b]);
        await store.appendLogs([
          {
            requestId: a.requestId,
            lines: [
              { at: T0, attempt: 1, level: 'warn', message: 'nul \u0000 and \ud800 lone, pair \ud83d\ude00', data: { 'k\u0000': ['v\u0000', '\udc00'] } },
              { at: T0 + 1, attempt: 1, level: 'info', message: 'null data', data: null },
            ],
            maxLines: 10,
            maxBytes: 65_536,
          },
          { requestId: b.requestId, lines: logLines(1), maxLines: 10, maxBytes: 65_536 },
        ]);
        expect((await store.readLogs(a.requestId, 0, 10))!.lines).toEqual([
          { seq: 1, at: T0, attempt: 1, level: 'warn', message: 'nul \ufffd and \ufffd lone, pair \ud83d\ude00', data: { 'k\ufffd': ['v\ufffd', '\ufffd'] } },
          { seq: 2, at: T0 + 1, attempt: 1, level: 'info', message: 'null data', data: null },
        ]);
        expect((await store.readLogs(b.requestId, 0, 10))!.lines.map((l) => l.message)).toEqual(['line 0']);
      });

      it('lists by invocation-id prefix from an index, across functions and within one', async () => {
        const store = await open();
        await store.enqueue(
          Array.from({ length: 400 }, (_, i) =>
            newInvocation({ functionName: i % 2 ? 'a' : 'b', invocationId: `${i % 3 ? 'order' : 'other'}_${i}`, payloadKey: 'k', createdAt: T0 + i }),
          ),
        );
        await admin.query(`analyze "${schema}".invocations`);
        const { statements } = await loadStatements(schema);
        const client = await admin.connect();
        try {
          await client.query('begin');
          await client.query('set local enable_seqscan = off');
          const plan = async (functionName: string | null) =>
            (await client.query(`explain ${statements.list}`, [functionName, null, null, null, null, null, 11, 'order_12']))
              .rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN'])
              .join('\n');
          // A range in byte order: the indexes on invocation_id (collation "C") serve it.
          expect(await plan(null)).toMatch(/ on invocations_invocation_id .*\n.*Index Cond: \(\(invocation_id >= 'order_12'::text\) AND \(invocation_id < /);
          expect(await plan('a')).toMatch(/Index Cond: \(\(function_name = 'a'::text\) AND \(invocation_id >= 'order_12'::text\) AND \(invocation_id < /);
        } finally {
          await client.query('rollback');
          client.release();
        }
        const found = await store.list({ limit: 100, invocationIdPrefix: 'order_12', functionName: 'a' });
        expect(found.items.map((r) => r.invocationId)).toEqual(['order_127', 'order_125', 'order_121']);
      });

      it('adds activity from instances writing the same counters at once, in any order, repeats in a batch included', async () => {
        const [x, y] = await pair();
        const model = memoryStore();
        const minutes = [0, 1, 2, 3].map((m) => T0 + m * 60_000);
        const cell = (fn: string, minute: number, n: number): ActivityEntry => {
          const wait = new Array<number>(DURATION_BUCKETS_MS.length + 1).fill(0);
          wait[n % wait.length] = n;
          return { functionName: fn, minute, finished: { Succeeded: n, Failed: 1 }, wait, run: [...wait].reverse() };
        };
        // Each batch touches the same rows as the others, in another order, some twice.
        const batches = Array.from({ length: 16 }, (_, i) => {
          const entries = minutes.flatMap((m, j) => ['a', 'b'].map((fn) => cell(fn, m, 1 + ((i + j) % 5))));
          return i % 2 ? entries.reverse() : [...entries, entries[0]!];
        });
        await Promise.all(batches.map((batch, i) => (i % 2 ? x : y).recordActivity(batch)));
        for (const batch of batches) await model.recordActivity(batch);
        const range = { since: T0, until: T0 + 10 * 60_000 };
        expect(await y.activity(range)).toEqual(await model.activity(range));
        await model.close();
      });

      it('keeps the limits a presence announces, so processes can tell when theirs differ', async () => {
        const [x, y] = await pair();
        const presence = { workerId: 'w1', functions: ['a', 'b'], host: 'h', pid: 1, concurrency: 4, startedAt: T0, expiresAt: T0 + 1000 };
        await x.announce({ ...presence, limits: { a: 'concurrency 5', b: 'none' } });
        await x.announce({ ...presence, workerId: 'w2' });
        expect(await y.workers(T0)).toEqual([{ ...presence, limits: { a: 'concurrency 5', b: 'none' } }, { ...presence, workerId: 'w2' }]);
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
