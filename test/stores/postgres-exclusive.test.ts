// Four worker processes on one schema, no kills: the ledger proves no invocation ran twice.
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createInvoker } from '../../src/invoker.js';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { waitFor } from '../helpers.js';
import { PG_URL, pgAvailable, randomSchema, startWorker, stopWorker } from './postgres-cluster.js';

const N = 1000;
const schema = randomSchema('excl');
const ledger = `"${schema}".ledger`;
const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
admin.on('error', () => {});
const available = await pgAvailable(admin, 'postgres exclusive test');
const workers: ChildProcess[] = [];

afterAll(async () => {
  await Promise.all(workers.map((w) => stopWorker(w, 'SIGKILL')));
  if (available) await admin.query(`drop schema if exists "${schema}" cascade`);
  await admin.end();
});

describe.runIf(available)('postgres: 4 worker processes on one schema', () => {
  it(`run ${N} invocations, each exactly once`, async () => {
    await admin.query(`create schema if not exists "${schema}"`);
    await admin.query(`create table ${ledger} (request_id text not null, attempt integer not null, pid integer not null)`);
    const producer = createInvoker({ store: postgresStore({ connectionString: PG_URL, schema, max: 4 }), concurrency: 0 });
    producer.register('job', () => undefined);
    try {
      workers.push(
        ...(await Promise.all(
          Array.from({ length: 4 }, () => startWorker({ schema, ledger, concurrency: 16, leaseSeconds: 30, handlerMs: 2 })),
        )),
      );
      const ids = await Promise.all(Array.from({ length: N }, (_, n) => producer.invokeAsync('job', { n }).then((r) => r.requestId)));
      expect(new Set(ids).size).toBe(N);
      await waitFor(
        async () => {
          const { rows } = await admin.query(`select count(*)::int as n from "${schema}".invocations where status = 'Succeeded'`);
          return rows[0].n === N;
        },
        { what: `${N} invocations to succeed`, timeoutMs: 60_000, intervalMs: 100 },
      );
      const runs = await admin.query(`select request_id, count(*)::int as runs from ${ledger} group by request_id having count(*) > 1`);
      expect(runs.rows).toEqual([]);
      const totals = await admin.query(`select count(*)::int as runs, count(distinct request_id)::int as ids, count(distinct pid)::int as pids from ${ledger}`);
      expect(totals.rows[0]).toMatchObject({ runs: N, ids: N });
      // The work really was shared between processes.
      expect(totals.rows[0].pids).toBeGreaterThan(1);
      const attempts = await admin.query(`select count(*)::int as n from "${schema}".invocations where attempts <> 1`);
      expect(attempts.rows[0].n).toBe(0);
    } finally {
      await Promise.all(workers.splice(0).map((w) => stopWorker(w, 'SIGTERM')));
      await producer.close();
    }
  }, 90_000);
});
