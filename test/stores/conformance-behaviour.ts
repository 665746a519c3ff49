/**
 * Conformance cases for what two stores could otherwise do differently: final records and the
 * work index, the counters of system-lost attempts, worker presence, listener errors, use after
 * close, the retention bound, an unreachable server, and the invoker-level guarantees that rest
 * on them (event order, an idle worker that stays idle, work no live worker can run).
 */
import { describe, expect, it } from 'vitest';
import { createInvoker } from '../../src/invoker.js';
import { fakeClock } from '../../src/fake-clock.js';
import { StoreError } from '../../src/errors.js';
import { retentionBatch } from '../../src/stores/retention.js';
import type { Store, StoreBackgroundTask, WorkerPresence } from '../../src/stores/contract.js';
import { waitFor } from '../helpers.js';
import { claimReq, LEASE, newInvocation, slot, succeed, T0, type SuiteContext } from './conformance-helpers.js';

function presence(workerId: string, functions: string[], expiresAt: number): WorkerPresence {
  return { workerId, functions, host: 'test-host', pid: 4242, concurrency: 8, startedAt: T0, expiresAt };
}

/** Every operation of the contract, called once with harmless arguments. */
function everyOperation(store: Store): [string, () => Promise<unknown>][] {
  return [
    ['enqueue', () => store.enqueue([newInvocation()])],
    ['claim', () => store.claim(claimReq(T0))],
    ['settle', () => store.settle([succeed('r', 't', T0)])],
    ['heartbeat', () => store.heartbeat({ now: T0, leaseMs: LEASE, leases: [{ requestId: 'r', leaseToken: 't' }] })],
    ['requestStop', () => store.requestStop({ requestId: 'r', now: T0, deliverOnFailure: false })],
    ['get', () => store.get('r')],
    ['list', () => store.list({ limit: 10 })],
    ['stats', () => store.stats()],
    ['prune', () => store.prune(T0)],
    ['announce', () => store.announce(presence('w', ['fn'], T0 + 1000))],
    ['withdraw', () => store.withdraw('w')],
    ['workers', () => store.workers(T0)],
  ];
}

export function behaviourCases({ open, pair, unreachable }: SuiteContext): void {
  describe('work index', () => {
    it('clears a final record that is due but owes nothing, and never reports it as the next due time', async () => {
      const store = await open();
      const inv = newInvocation();
      await store.enqueue([inv]);
      const [c] = (await store.claim(claimReq(T0))).items;
      // Final and due, but no delivery pending: nothing a claim can do with it.
      expect(await store.settle([{ ...succeed(inv.requestId, c!.leaseToken, T0 + 1), dueAt: T0 + 2 }])).toEqual(['ok']);
      expect(await store.claim(claimReq(T0 + 5))).toEqual({ items: [], nextDueAt: undefined });
      expect((await store.get(inv.requestId))!.dueAt).toBeUndefined();
      expect(await store.claim(claimReq(T0 + 6))).toEqual({ items: [], nextDueAt: undefined });
    });
  });

  describe('claims and retention under contention', () => {
    it('claims past a run of final records that owe nothing, never reporting one as the next due time', async () => {
      const store = await open();
      const finals = Array.from({ length: 6 }, (_, i) => newInvocation({ createdAt: T0 + i }));
      await store.enqueue(finals);
      const claimed = (await store.claim(claimReq(T0 + 10))).items;
      expect(claimed).toHaveLength(6);
      // Final and due at T0 + 20, but owing nothing: more of them than a claim reads past its quota.
      const settled = await store.settle(claimed.map((c) => ({ ...succeed(c.record.requestId, c.leaseToken, T0 + 11), dueAt: T0 + 20 })));
      expect(settled).toEqual(Array(6).fill('ok'));
      const work = newInvocation({ createdAt: T0 + 21 });
      await store.enqueue([work]);
      const { items, nextDueAt } = await store.claim(claimReq(T0 + 30, [slot('fn', 1)], 1));
      expect(items.map((c) => c.record.requestId)).toEqual([work.requestId]);
      // Never a final's due time (in the past); the memory store may name an earlier lease expiry (a lower bound).
      expect(nextDueAt).toBeGreaterThan(T0 + 30);
      expect(nextDueAt).toBeLessThanOrEqual(T0 + 30 + LEASE);
      for (const f of finals) expect((await store.get(f.requestId))?.dueAt, f.requestId).toBeUndefined();
    });

    it('gives a slot what the slots before it left of the claim limit', async () => {
      const store = await open();
      const few = newInvocation({ functionName: 'few' });
      const many = Array.from({ length: 5 }, (_, i) => newInvocation({ functionName: 'many', createdAt: T0 + i }));
      await store.enqueue([few, ...many]);
      const { items } = await store.claim(claimReq(T0 + 10, [slot('few', 4), slot('many', 4)], 4));
      expect(items.map((c) => c.record.requestId)).toEqual([few.requestId, ...many.slice(0, 3).map((i) => i.requestId)]);
    });

    it('keeps exactly maxCount when instances prune the same prefix at once', async () => {
      const maxCount = 10;
      const stores = [await open({ retention: { maxCount } }), await open({ retention: { maxCount } }), await open({ retention: { maxCount } })];
      const [a] = stores as [Store, Store, Store];
      const finished = async () => (await a.list({ limit: 1000, statuses: ['Succeeded'] })).items.length;
      for (let round = 0; round < 5; round++) {
        // Spread over functions, so a pass takes several round trips while the others run.
        const items = Array.from({ length: 30 }, (_, i) => newInvocation({ functionName: `f${i % 6}`, createdAt: T0 + round * 100 + i }));
        await a.enqueue(items);
        const slots = Array.from({ length: 6 }, (_, i) => slot(`f${i}`, 5));
        const claimed = (await a.claim(claimReq(T0 + round * 100 + 50, slots, 100))).items;
        expect(claimed).toHaveLength(30);
        await a.settle(claimed.map((c, i) => succeed(c.record.requestId, c.leaseToken, T0 + round * 100 + 50 + i)));
        await Promise.all(stores.map((s) => s.prune(T0 + round * 100 + 90)));
        expect(await finished(), `round ${round}`).toBe(maxCount);
      }
    });

  });

  describe('work index, kept leases', () => {
    it('takes a final record whose kept lease lapsed with nothing owed out of the work index, lease and all, so retention prunes it', async () => {
      const store = await open({ retention: { maxAgeSeconds: 1 } });
      const inv = newInvocation();
      await store.enqueue([inv]);
      const [c] = (await store.claim(claimReq(T0))).items;
      expect(await store.settle([{ ...succeed(inv.requestId, c!.leaseToken, T0 + 1), dueAt: T0 + 10, keepLease: true }])).toEqual(['ok']);
      expect(await store.claim(claimReq(T0 + 20))).toEqual({ items: [], nextDueAt: undefined });
      const record = await store.get(inv.requestId);
      expect(record).toBeDefined();
      expect(record!.dueAt).toBeUndefined();
      expect(record!.leaseToken).toBeUndefined();
      expect(await store.prune(T0 + 5000)).toBe(1);
      expect(await store.get(inv.requestId)).toBeUndefined();
    });
  });

  describe('system-lost attempts', () => {
    it('start at 0 and keep what settlements write', async () => {
      const store = await open();
      const inv = newInvocation();
      await store.enqueue([inv]);
      expect(await store.get(inv.requestId)).toMatchObject({ lostAttempts: 0, interruptedAttempts: 0 });
      const [c] = (await store.claim(claimReq(T0))).items;
      expect(c!.record).toMatchObject({ lostAttempts: 0, interruptedAttempts: 0 });
      expect(
        await store.settle([{
          requestId: inv.requestId, leaseToken: c!.leaseToken, status: 'Retrying', dueAt: T0 + 10, scheduledAt: T0 + 10,
          events: [{ at: T0 + 1, status: 'Retrying', attempt: 1, detail: 'WorkerLost: lost' }],
          error: { errorType: 'WorkerLost', errorMessage: 'lost' }, lostAttempts: 1, interruptedAttempts: 2,
        }]),
      ).toEqual(['ok']);
      expect(await store.get(inv.requestId)).toMatchObject({ status: 'Retrying', lostAttempts: 1, interruptedAttempts: 2 });
      const [again] = (await store.claim(claimReq(T0 + 10))).items;
      expect(again!.record).toMatchObject({ attempts: 2, lostAttempts: 1, interruptedAttempts: 2 });
      // Fields a settlement leaves out are kept.
      expect(await store.settle([succeed(inv.requestId, again!.leaseToken, T0 + 11, 2)])).toEqual(['ok']);
      expect(await store.get(inv.requestId)).toMatchObject({ status: 'Succeeded', lostAttempts: 1, interruptedAttempts: 2 });
    });
  });

  describe('worker presence', () => {
    it('lists announced workers until they lapse or withdraw, across instances', async () => {
      const [a, b] = await pair();
      await a.announce(presence('w1', ['x', 'y'], T0 + 10_000));
      await b.announce(presence('w2', ['y'], T0 + 5_000));
      const ids = async (store: Store, now: number) => (await store.workers(now)).map((w) => w.workerId).sort();
      expect(await ids(a, T0)).toEqual(['w1', 'w2']);
      expect(await ids(b, T0)).toEqual(['w1', 'w2']);
      expect((await b.workers(T0)).find((w) => w.workerId === 'w1')).toEqual(presence('w1', ['x', 'y'], T0 + 10_000));
      // Lapsed at its expiry; renewed by announcing again.
      expect(await ids(a, T0 + 5_000)).toEqual(['w1']);
      await b.announce(presence('w2', ['y', 'z'], T0 + 20_000));
      expect((await a.workers(T0 + 6_000)).find((w) => w.workerId === 'w2')?.functions).toEqual(['y', 'z']);
      await a.withdraw('w1');
      expect(await ids(b, T0 + 6_000)).toEqual(['w2']);
      await a.withdraw('never-announced');
    });
  });

  describe('listener errors', () => {
    it('a throwing listener never fails the write: it is reported to onError, and the other listeners still run', async () => {
      const store = await open();
      const reported: [unknown, StoreBackgroundTask][] = [];
      store.onError((error, during) => reported.push([error, during]));
      store.subscribe(() => {
        throw new Error('listener bug');
      });
      const heard: string[] = [];
      store.subscribe((s) => heard.push(s.type));
      const inv = newInvocation();
      expect(await store.enqueue([inv])).toEqual([{ requestId: inv.requestId, outcome: 'created' }]);
      expect(await store.get(inv.requestId)).toMatchObject({ status: 'Enqueued' });
      await waitFor(() => reported.length > 0 && heard.length > 0, { what: 'the listener error to be reported', timeoutMs: 3000 });
      const [error, during] = reported[0]!;
      expect(during).toBe('listener');
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).cause).toMatchObject({ message: 'listener bug' });
      // A stop's signal, the same way.
      const [c] = (await store.claim(claimReq(T0))).items;
      expect((await store.requestStop({ requestId: inv.requestId, now: T0 + 1, deliverOnFailure: false })).outcome).toBe('stopping');
      expect(await store.settle([{ ...succeed(inv.requestId, c!.leaseToken, T0 + 2), status: 'Stopped', condition: 'Stopped' }])).toEqual(['ok']);
    });
  });

  describe('after close', () => {
    it('every operation fails with StoreError, the same on every store', async () => {
      const store = await open();
      await store.get('warm-up');
      await store.close();
      for (const [name, call] of everyOperation(store)) {
        const error = await call().then(() => undefined, (e: unknown) => e);
        expect(error, `${name} after close`).toBeInstanceOf(StoreError);
        expect((error as Error).message, `${name} after close`).toMatch(/close/);
      }
      expect(() => store.subscribe(() => {})).toThrow(StoreError);
      expect(() => store.onError(() => {})).toThrow(StoreError);
      await store.close();
    });
  });

  describe('retention bound', () => {
    it('keeps at most maxCount + one batch finished invocations with no explicit prune', async () => {
      const maxCount = 5;
      const store = await open({ retention: { maxCount } });
      const bound = maxCount + retentionBatch(maxCount);
      for (let i = 0; i < 30; i++) {
        const inv = newInvocation({ createdAt: T0 + i });
        await store.enqueue([inv]);
        const [c] = (await store.claim(claimReq(T0 + i))).items;
        expect(await store.settle([succeed(inv.requestId, c!.leaseToken, T0 + i)])).toEqual(['ok']);
      }
      const finished = async () => (await store.list({ limit: 1000, statuses: ['Succeeded'] })).items.length;
      await waitFor(async () => (await finished()) <= bound, { what: `at most ${bound} finished invocations`, timeoutMs: 5000 });
      expect(await finished()).toBeGreaterThanOrEqual(maxCount);
    });

    it('prunes by age at least once a minute of store time, with no explicit prune', async () => {
      const store = await open({ retention: { maxAgeSeconds: 60 } });
      const inv = newInvocation();
      await store.enqueue([inv]);
      const [c] = (await store.claim(claimReq(T0))).items;
      await store.settle([succeed(inv.requestId, c!.leaseToken, T0 + 1)]);
      // Claims as time goes by: one more than a minute after the record aged out triggers a pass.
      await store.claim(claimReq(T0 + 30_000));
      await store.claim(claimReq(T0 + 125_000));
      await waitFor(async () => (await store.get(inv.requestId)) === undefined, { what: 'the aged-out record to be pruned', timeoutMs: 5000 });
    });
  });

  // Stores with a server to reach; the memory store has none.
  if (unreachable) describe('faults', () => {
    it('an unreachable server fails each call with a StoreError naming the store, never a hang', async () => {
      const store = unreachable();
      try {
        for (const [name, call] of everyOperation(store).filter(([n]) => ['enqueue', 'claim', 'get', 'list'].includes(n))) {
          const error = await call().then(() => undefined, (e: unknown) => e);
          expect(error, name).toBeInstanceOf(StoreError);
          expect((error as Error).message, name).toContain(store.name);
          expect((error as StoreError).cause, name).toBeDefined();
        }
      } finally {
        await store.close();
      }
    });
  });

  describe('on a real invoker', () => {
    it('emits enqueued before any later event of the same invocation', async () => {
      const store = await open();
      const invoker = createInvoker({ store, concurrency: 8 });
      const order = new Map<string, string[]>();
      for (const name of ['enqueued', 'started', 'succeeded'] as const) {
        invoker.on(name, (e) => order.set(e.requestId, [...(order.get(e.requestId) ?? []), name]));
      }
      invoker.register('quick', () => 'ok');
      try {
        const ids = await Promise.all(Array.from({ length: 40 }, (_, i) => invoker.invokeAsync('quick', { i }).then((r) => r.requestId)));
        // One at a time too, while the worker claims: a claim can then share the enqueue's commit.
        for (let i = 0; i < 40; i++) ids.push((await invoker.invokeAsync('quick', { i })).requestId);
        await waitFor(() => ids.every((id) => order.get(id)?.includes('succeeded')), { what: 'every invocation to succeed' });
        for (const id of ids) expect(order.get(id), id).toEqual(['enqueued', 'started', 'succeeded']);
      } finally {
        await invoker.close();
      }
    });

    it('an idle worker claims nothing while nothing changes', async () => {
      const store = await open();
      const clock = fakeClock(T0);
      const invoker = createInvoker({ store, clock, concurrency: 4 });
      let claims = 0;
      const claim = store.claim.bind(store);
      store.claim = (request) => {
        claims++;
        return claim(request);
      };
      invoker.register('mixed', (p: { fail: boolean }) => {
        if (p.fail) throw new Error('no');
        return null;
      }, { maxAsyncRetryAttempts: 0 });
      try {
        const ids = await Promise.all(
          Array.from({ length: 12 }, (_, i) => invoker.invokeAsync('mixed', { fail: i % 3 === 0 }).then((r) => r.requestId)),
        );
        await waitFor(async () => {
          for (const id of ids) if (!['Succeeded', 'Failed'].includes((await invoker.getInvocation(id))?.status ?? '')) return false;
          return true;
        }, { what: 'the workload to finish' });
        await invoker.idle();
        // The clock is frozen and nothing is enqueued: any claim from now on is a spin.
        const before = claims;
        for (let turn = 0; turn < 50; turn++) await new Promise((resolve) => setTimeout(resolve, 2));
        expect(claims - before).toBe(0);
      } finally {
        await invoker.close();
      }
    });

    it('reports work of a function no live worker runs: a warning naming it, once, and a queue metric', async () => {
      const [a, b] = await pair();
      const clock = fakeClock(T0);
      const producer = createInvoker({ store: a, clock, concurrency: 0 });
      const worker = createInvoker({ store: b, clock, concurrency: 2 });
      // Per invoker: two store instances stand for two processes, and each process warns once.
      const warnings: string[] = [];
      const workerWarnings: string[] = [];
      producer.on('warning', (w) => warnings.push(`${w.code}:${w.functionName}`));
      worker.on('warning', (w) => workerWarnings.push(`${w.code}:${w.functionName}`));
      producer.register('orphan', () => null);
      producer.register('served', () => null);
      worker.register('served', () => null);
      try {
        await producer.invokeAsync('orphan', {});
        await producer.invokeAsync('orphan', {});
        const { requestId } = await producer.invokeAsync('served', {});
        await waitFor(async () => (await producer.getInvocation(requestId))?.status === 'Succeeded', { what: 'served to run' });
        // Fresh work is not warned about: its workers may still be starting.
        expect((await producer.queueMetrics()).functions.orphan).toMatchObject({ depth: 2, unserved: 2 });
        expect(warnings).toEqual([]);
        // Past the grace, with the worker's presence still live: orphan is reported, served is not.
        await clock.advance(40_000);
        await waitFor(async () => {
          const queue = await producer.queueMetrics();
          return queue.functions.orphan?.unserved === 2 && queue.functions.served?.unserved === 0 && queue.total.unserved === 2;
        }, { what: 'the unserved metric' });
        await waitFor(() => warnings.includes('UnservedFunction:orphan'), { what: 'a warning naming orphan' });
        await producer.queueMetrics();
        expect(warnings.filter((w) => w === 'UnservedFunction:orphan')).toHaveLength(1);
        expect([...warnings, ...workerWarnings].some((w) => w.endsWith(':served'))).toBe(false);
      } finally {
        await worker.close();
        await producer.close();
      }
    });
  });
}
