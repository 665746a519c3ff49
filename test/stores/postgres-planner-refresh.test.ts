// A young table: the PostgreSQL store's prepared statements keep the generic plans they made in
// their first calls, and plans made while the table held a page or two scan it whole. The store
// has the table analyzed as it writes its first rows, so those plans are made again. Against the
// real server.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { PlannerRefresh, REFRESH_AT } from '../../src/stores/postgres/planner-refresh.js';
import { loadStatements } from '../../src/stores/postgres/statements.js';
import { claimReq, newInvocation, slot, succeed, T0 } from './conformance.js';
import { planNodes } from './postgres-plans.js';
import { waitFor } from '../helpers.js';

const url = process.env.PG_URL ?? 'postgres://root@127.0.0.1:5432/test';
const schema = `ai_pr_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const admin = new pg.Pool({ connectionString: url, max: 1 });
admin.on('error', () => {});
const heldSchema = `${schema}_held`;
afterAll(async () => {
  for (const name of [schema, heldSchema]) await admin.query(`drop schema if exists "${name}" cascade`);
  await admin.end();
});

async function plannerRows(of = schema): Promise<number> {
  const { rows } = await admin.query<{ reltuples: number }>(`select reltuples from pg_class where oid = '"${of}".invocations'::regclass`);
  return Number(rows[0]!.reltuples);
}

describe('postgres: the planner and a young table', () => {
  it('has a table that grew from empty analyzed, so cached plans find rows by the primary key instead of scanning the table', async () => {
    // One connection: the plans the store's statements cached are the ones explained below.
    // Generic plans from the first call (the server settles on them after five).
    const pool = new pg.Pool({ connectionString: url, max: 1, options: '-c plan_cache_mode=force_generic_plan' });
    const store = postgresStore({ pool, schema });
    try {
      await store.get('warm-up'); // migrates
      // Only the store's asks analyze the table meanwhile.
      await admin.query(`alter table "${schema}".invocations set (autovacuum_enabled = off)`);
      // While the table holds a page: enqueue, claim and settle, on their own and together.
      let now = T0;
      for (let i = 0; i < 4; i++) {
        const invocation = newInvocation({ createdAt: ++now });
        await store.enqueue([invocation]);
        const [claimed] = (await store.claim(claimReq(++now, [slot('fn', 1)], 1))).items;
        const settled = store.settle([succeed(invocation.requestId, claimed!.leaseToken, ++now)]);
        // Every other time a claim carries the settlement (settle-claim); otherwise it goes alone.
        if (i % 2 === 0) await store.claim(claimReq(now, [slot('fn', 1)], 1));
        expect(await settled).toEqual(['ok']);
      }
      expect(await plannerRows()).toBeLessThan(0); // never analyzed
      for (let chunk = 0; chunk < 5; chunk++) {
        await store.enqueue(Array.from({ length: 1000 }, () => newInvocation({ createdAt: ++now })));
      }
      await waitFor(async () => (await plannerRows()) >= 4000, { what: 'the grown table to be analyzed' });

      const { names } = await loadStatements(schema);
      const slots = `'[{"f":"fn","n":1,"o":0,"age":86400000}]', ${now}, 30000, 1, '{}'`;
      const client = await pool.connect();
      try {
        for (const [name, values] of [
          ['claim', slots],
          ['settle', `'[]', 'channel', 'instance'`],
          ['settle-claim', `${slots}, '[]', 'channel', 'instance'`],
        ] as const) {
          // EXECUTE takes the statement the store prepared on this connection, with its cached plan.
          const { rows } = await client.query<{ 'QUERY PLAN': unknown }>(`explain (format json) execute ${names[name]}(${values})`);
          const reads = planNodes(rows[0]!['QUERY PLAN']).filter((n) => n['Relation Name'] === 'invocations');
          expect.soft(reads.map((n) => n['Node Type']), name).not.toContain('Seq Scan');
          expect.soft(reads.map((n) => n['Index Name']), name).toContain('invocations_pkey');
        }
      } finally {
        client.release();
      }
    } finally {
      await store.close();
      await pool.end();
    }
  });
});

describe('postgres: the planner refresh and a held table', () => {
  it('skips the analyze, without waiting or reporting, while a vacuum or another analyze holds the table', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    // A short statement timeout: an analyze queued behind the lock would fail with it, reported.
    const store = postgresStore({ pool, schema: heldSchema, operationTimeoutMs: 1000 });
    const reported: string[] = [];
    store.onError((_error, during) => reported.push(during));
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await store.get('warm-up'); // migrates
      await admin.query(`alter table "${heldSchema}".invocations set (autovacuum_enabled = off)`);
      await holder.query('begin');
      // The lock a vacuum or an analyze takes.
      await holder.query(`lock table "${heldSchema}".invocations in share update exclusive mode`);
      await store.enqueue(Array.from({ length: REFRESH_AT[0]! }, (_, i) => newInvocation({ createdAt: T0 + i })));
      // close() waits for the ask under way.
      await store.close();
      expect(reported).toEqual([]);
      expect(await plannerRows(heldSchema)).toBeLessThan(0); // not analyzed: skipped
    } finally {
      await holder.query('rollback');
      await holder.end();
      await store.close();
      await pool.end();
    }
  });
});

describe('PlannerRefresh', () => {
  function refresher() {
    const asks: (() => void)[] = [];
    const errors: unknown[] = [];
    const refresh = new PlannerRefresh({
      refresh: () => new Promise<void>((resolve) => asks.push(resolve)),
      onError: (error) => errors.push(error),
    });
    return { refresh, asks, errors };
  }
  const turn = () => new Promise((resolve) => setImmediate(resolve));

  it(`asks at ${REFRESH_AT.join(', ')} rows written, then never again`, async () => {
    const { refresh, asks } = refresher();
    refresh.wrote(REFRESH_AT[0]! - 1);
    expect(asks).toHaveLength(0);
    refresh.wrote(1);
    expect(asks).toHaveLength(1);
    for (let i = 1; i < REFRESH_AT.length; i++) {
      asks.at(-1)!();
      await turn();
      refresh.wrote(REFRESH_AT[i]! - REFRESH_AT[i - 1]!);
      expect(asks).toHaveLength(i + 1);
    }
    asks.at(-1)!();
    await turn();
    refresh.wrote(10 * REFRESH_AT.at(-1)!);
    expect(asks).toHaveLength(REFRESH_AT.length);
  });

  it('asks once at a time: thresholds passed during an ask are asked for once, after it', async () => {
    const { refresh, asks } = refresher();
    refresh.wrote(REFRESH_AT[0]!);
    refresh.wrote(REFRESH_AT[2]!);
    expect(asks).toHaveLength(1);
    asks[0]!();
    await turn();
    expect(asks).toHaveLength(2);
    asks[1]!();
    await turn();
    expect(asks).toHaveLength(2);
    refresh.wrote(REFRESH_AT[3]!);
    expect(asks).toHaveLength(3);
  });

  it('reports a failed ask and asks again at the next threshold; stop waits for the ask under way and ends the asks', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const failing = new PlannerRefresh({
      refresh: () => (calls++, Promise.reject(new Error('no server'))),
      onError: (error) => errors.push(error),
    });
    failing.wrote(REFRESH_AT[0]!);
    await turn();
    expect(errors).toEqual([new Error('no server')]);
    failing.wrote(REFRESH_AT[1]! - REFRESH_AT[0]!);
    await turn();
    expect(calls).toBe(2);
    expect(errors).toHaveLength(2);

    const { refresh, asks } = refresher();
    refresh.wrote(REFRESH_AT[0]!);
    let stopped = false;
    const stopping = refresh.stop().then(() => (stopped = true));
    await turn();
    expect(stopped).toBe(false);
    asks[0]!();
    await stopping;
    refresh.wrote(REFRESH_AT.at(-1)!);
    expect(asks).toHaveLength(1);
  });
});
