// A worker settles an attempt and claims its next work in the same turn: the PostgreSQL store
// sends both as one statement (settle-claim), one round trip and one commit. Against the real
// server; the pool is pg's own, counting the statements it is given.
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { postgresStore } from '../../src/stores/postgres/index.js';
import { StoreError } from '../../src/errors.js';
import type { Store } from '../../src/stores/contract.js';
import { claimReq, newInvocation, slot, succeed, T0 } from './conformance.js';
import { createInvoker } from '../../src/invoker.js';
import { loadStatements } from '../../src/stores/postgres/statements.js';
import { CARRY_MAX } from '../../src/stores/postgres/unsent-settlements.js';

const url = process.env.PG_URL ?? 'postgres://root@127.0.0.1:5432/test';
const schema = `ai_sc_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const admin = new pg.Pool({ connectionString: url, max: 1 });
admin.on('error', () => {});

/** pg's Pool, noting which of the store's statements each query is. */
function countingPool(): { pool: pg.Pool; sent: string[] } {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const sent: string[] = [];
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
    const config = args[0] as string | { text?: string };
    const text = typeof config === 'string' ? config : (config.text ?? '');
    sent.push(text.includes('settled as (') ? 'settle-claim' : text.includes('updated as (') ? 'settle' : text.includes('claimed as (') ? 'claim' : 'other');
    return query(...args);
  };
  return { pool, sent };
}

const opened: { store: Store; pool: pg.Pool }[] = [];
async function open(): Promise<{ store: Store; sent: string[] }> {
  const { pool, sent } = countingPool();
  const store = postgresStore({ pool, schema });
  opened.push({ store, pool });
  await store.get('warm-up'); // migrates
  sent.length = 0;
  return { store, sent };
}

afterEach(async () => {
  for (const { store, pool } of opened.splice(0)) {
    await store.close();
    await pool.end();
  }
  await admin.query(`drop schema if exists "${schema}" cascade`);
});
afterAll(() => admin.end());

describe('postgres: settle and claim in one statement', () => {
  it('a claim made while a settlement waits carries it: one statement writes both and answers both', async () => {
    const { store, sent } = await open();
    const [a, b] = [newInvocation(), newInvocation({ createdAt: T0 + 1 })];
    await store.enqueue([a, b]);
    const [first] = (await store.claim(claimReq(T0 + 2, [slot('fn', 1)], 1))).items;
    expect(first!.record.requestId).toBe(a.requestId);
    sent.length = 0;

    const settled = store.settle([succeed(a.requestId, first!.leaseToken, T0 + 3)]);
    const claimed = store.claim(claimReq(T0 + 3, [slot('fn', 1)], 1));
    expect(await settled).toEqual(['ok']);
    expect((await claimed).items.map((c) => c.record.requestId)).toEqual([b.requestId]);
    expect(sent).toEqual(['settle-claim']);
    expect(await store.get(a.requestId)).toMatchObject({ status: 'Succeeded', result: { ok: true } });
    expect(await store.get(b.requestId)).toMatchObject({ status: 'Running', attempts: 1 });
  });

  it('a settlement waits one turn at most: with no claim it is written on its own', async () => {
    const { store, sent } = await open();
    const a = newInvocation();
    await store.enqueue([a]);
    const [c] = (await store.claim(claimReq(T0 + 1))).items;
    sent.length = 0;
    expect(await store.settle([succeed(a.requestId, c!.leaseToken, T0 + 2)])).toEqual(['ok']);
    expect(sent).toEqual(['settle']);
  });

  it(`carries at most ${CARRY_MAX} settlements: a bigger batch is written on its own, beside the claim`, async () => {
    const { store, sent } = await open();
    const items = Array.from({ length: CARRY_MAX + 2 }, (_, i) => newInvocation({ createdAt: T0 + i }));
    await store.enqueue(items);
    const claimed = (await store.claim(claimReq(T0 + 100, [slot('fn', CARRY_MAX + 1)], CARRY_MAX + 1))).items;
    sent.length = 0;
    const settled = store.settle(claimed.map((c) => succeed(c.record.requestId, c.leaseToken, T0 + 101)));
    const next = store.claim(claimReq(T0 + 101));
    expect(await settled).toEqual(claimed.map(() => 'ok'));
    expect((await next).items.map((c) => c.record.requestId)).toEqual([items[CARRY_MAX + 1]!.requestId]);
    expect(sent.filter((s) => s !== 'other').sort()).toEqual(['claim', 'settle']);
  });

  it('does not claim the lapsed lease it settles: the holder ends it, the claim takes nothing', async () => {
    const { store } = await open();
    const a = newInvocation();
    await store.enqueue([a]);
    const [c] = (await store.claim(claimReq(T0 + 1, [slot()], 100, 10))).items;
    // Its lease ran out at T0 + 11; its holder settles it as a claim at T0 + 20 would recover it.
    const settled = store.settle([succeed(a.requestId, c!.leaseToken, T0 + 20)]);
    const claimed = store.claim(claimReq(T0 + 20));
    expect(await settled).toEqual(['ok']);
    expect((await claimed).items).toEqual([]);
    expect(await store.get(a.requestId)).toMatchObject({ status: 'Succeeded', attempts: 1 });
  });

  it('answers a stale and a stopping settlement as settle alone does', async () => {
    const { store } = await open();
    const [a, b] = [newInvocation(), newInvocation()];
    await store.enqueue([a, b]);
    const [ca, cb] = (await store.claim(claimReq(T0 + 1))).items;
    await store.requestStop({ requestId: b.requestId, now: T0 + 2, deliverOnFailure: false });
    const retry = { ...succeed(b.requestId, cb!.leaseToken, T0 + 3), status: 'Retrying' as const, dueAt: T0 + 100, endedAt: undefined, result: undefined };
    const settled = store.settle([succeed(a.requestId, `${ca!.leaseToken}-not-ours`, T0 + 3), retry]);
    const claimed = store.claim(claimReq(T0 + 3));
    expect(await settled).toEqual(['stale', 'stopping']);
    await claimed;
    expect(await store.get(a.requestId)).toMatchObject({ status: 'Running' });
  });

  it('a failed statement fails both, each as its own StoreError, and writes neither', async () => {
    const { store, sent } = await open();
    const [a, b] = [newInvocation(), newInvocation({ createdAt: T0 + 1 })];
    await store.enqueue([a, b]);
    const [first] = (await store.claim(claimReq(T0 + 2, [slot('fn', 1)], 1))).items;
    sent.length = 0;
    // PostgreSQL's jsonb has no NUL character: the server refuses the whole statement.
    const bad = { ...succeed(a.requestId, first!.leaseToken, T0 + 3), result: 'bad\u0000result' };
    const settled = store.settle([bad]);
    const claimed = store.claim(claimReq(T0 + 3, [slot('fn', 1)], 1));
    await expect(settled).rejects.toThrow(StoreError);
    await expect(settled).rejects.toThrow(/settle/);
    await expect(claimed).rejects.toThrow(StoreError);
    await expect(claimed).rejects.toThrow(/claim/);
    expect(sent).toEqual(['settle-claim']);
    expect(await store.get(a.requestId)).toMatchObject({ status: 'Running' });
    expect(await store.get(b.requestId)).toMatchObject({ status: 'Enqueued', attempts: 0 });
  });

  it('a worker at concurrency 1 settles each attempt in the claim of the next', async () => {
    const { store, sent } = await open();
    const invoker = createInvoker({ store, concurrency: 1 });
    let ran = 0;
    invoker.register('noop', () => void ran++);
    await invoker.invokeAsyncMany(Array.from({ length: 20 }, (_, i) => ({ name: 'noop', payload: { i } })));
    await invoker.idle();
    await invoker.close();
    expect(ran).toBe(20);
    // The last settlement has no claim after it; every other rides in one (the run is driven
    // by the worker alone: nothing else claims or settles on this store).
    expect(sent.filter((s) => s === 'settle').length).toBeLessThanOrEqual(1);
    expect(sent.filter((s) => s === 'settle-claim').length).toBeGreaterThanOrEqual(19);
  });
});

describe('postgres: the hot-path statements keep one plan', () => {
  // Planned again at every call, a claim spent ~1 ms of its ~1.4 ms at concurrency 1 planning.
  it('claim, settle-claim, next-due, settle, heartbeat and get get a generic plan after their first executions, not one per call', async () => {
    const { store } = await open();
    await store.enqueue(Array.from({ length: 50 }, (_, i) => newInvocation({ createdAt: T0 + i })));
    const { statements } = await loadStatements(schema);
    const slots = JSON.stringify([{ f: 'fn', n: 1, age: 86_400_000, o: 0 }]);
    const settlement = JSON.stringify([{ ord: 0, request_id: 'none', lease_token: 'none', status: 'Succeeded', events: [], keep_lease: false }]);
    const cases = [
      ['claim', [slots, T0 + 100, 30_000, 1, []]],
      ['settle-claim', [slots, T0 + 100, 30_000, 1, ['none'], settlement, 'channel', 'instance']],
      ['next-due', [['fn']]],
      ['settle', [settlement, 'channel', 'instance']],
      ['heartbeat', [JSON.stringify([{ request_id: 'none', lease_token: 'none' }]), T0 + 30_000]],
      ['get', ['none']],
    ] as const;
    const client = await admin.connect();
    try {
      const plans: Record<string, { generic_plans: string; custom_plans: string }> = {};
      for (const [name, values] of cases) {
        // As the store sends it: a named statement, executed again and again on one connection.
        for (let i = 0; i < 12; i++) await client.query({ name: `probe_${name}`, text: statements[name], values: [...values] });
        const { rows } = await client.query<{ generic_plans: string; custom_plans: string }>(
          'select generic_plans, custom_plans from pg_prepared_statements where name = $1',
          [`probe_${name}`],
        );
        plans[name] = rows[0]!;
      }
      // PostgreSQL plans the first five with the values, then keeps the generic plan if it costs no more.
      expect(plans).toEqual(Object.fromEntries(cases.map(([name]) => [name, { generic_plans: '7', custom_plans: '5' }])));
    } finally {
      client.release();
    }
  });
});
