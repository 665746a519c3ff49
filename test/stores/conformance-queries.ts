/** Conformance cases: list, stats, retention, signals, close, end to end (see conformance.ts). */
import { describe, expect, it } from 'vitest';
import { createInvoker } from '../../src/invoker.js';
import { fakeClock } from '../../src/fake-clock.js';
import { InvalidArgumentError } from '../../src/errors.js';
import type { NewInvocation, Store, StoreSignal } from '../../src/stores/contract.js';
import { waitFor } from '../helpers.js';
import { claimReq, DAY, newInvocation, slot, succeed, T0, type SuiteContext } from './conformance-helpers.js';

export function queryCases({ open, pair }: SuiteContext): void {
  describe('list', () => {
    it('filters by function, statuses and createdAt range, newest first', async () => {
      const store = await open();
      const items = [
        newInvocation({ functionName: 'a', createdAt: T0 + 1 }),
        newInvocation({ functionName: 'b', createdAt: T0 + 2 }),
        newInvocation({ functionName: 'a', createdAt: T0 + 3 }),
        newInvocation({ functionName: 'a', createdAt: T0 + 3 }),
        newInvocation({ functionName: 'b', createdAt: T0 + 4 }),
      ];
      await store.enqueue(items);
      const ids = (page: { items: { requestId: string }[] }) => page.items.map((r) => r.requestId);
      const [i0, i1, i2, i3, i4] = items.map((i) => i.requestId) as [string, string, string, string, string];
      expect(ids(await store.list({ limit: 10 }))).toEqual([i4, i3, i2, i1, i0]);
      expect(ids(await store.list({ limit: 10, functionName: 'a' }))).toEqual([i3, i2, i0]);
      expect(ids(await store.list({ limit: 10, since: T0 + 2, until: T0 + 4 }))).toEqual([i3, i2, i1]);
      await store.claim(claimReq(T0 + 10, [slot('b', 1)]));
      expect(ids(await store.list({ limit: 10, statuses: ['Running'] }))).toEqual([i1]);
      expect(ids(await store.list({ limit: 10, statuses: ['Running', 'Enqueued'], functionName: 'b' }))).toEqual([i4, i1]);
      expect(ids(await store.list({ limit: 10, statuses: ['Succeeded'] }))).toEqual([]);
      const page = await store.list({ limit: 10, functionName: 'b', statuses: ['Running'] });
      expect(page.items[0]).toMatchObject({ status: 'Running', attempts: 1, payload: items[1]!.payload });
      expect(page.nextCursor).toBeUndefined();
      await expect((async () => store.list({ limit: 10, cursor: '!!' }))()).rejects.toBeInstanceOf(InvalidArgumentError);
    });

    it('paginates with a cursor that neither skips nor repeats while new work arrives', async () => {
      const store = await open();
      // Several per millisecond, so the requestId tie-break matters.
      const initial = Array.from({ length: 23 }, (_, i) => newInvocation({ createdAt: T0 + Math.floor(i / 3) }));
      await store.enqueue(initial);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list({ limit: 5, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((r) => r.requestId));
        cursor = page.nextCursor;
        pages++;
        // New work between pages (newer, as new work is) must not shift later pages.
        await store.enqueue([newInvocation({ createdAt: T0 + 100 + pages }), newInvocation({ createdAt: T0 + 100 + pages })]);
      } while (cursor);
      expect(pages).toBe(5);
      expect(seen).toHaveLength(23);
      expect(new Set(seen).size).toBe(23);
      const expected = [...initial].sort((p, q) => q.createdAt - p.createdAt || (q.requestId > p.requestId ? 1 : -1)).map((i) => i.requestId);
      expect(seen).toEqual(expected);
    });
  });

  describe('stats', () => {
    it('counts pending and running by function with the oldest pending createdAt', async () => {
      const store = await open();
      await store.enqueue([
        newInvocation({ functionName: 'a', createdAt: T0 + 5 }),
        newInvocation({ functionName: 'a', createdAt: T0 + 2 }),
        newInvocation({ functionName: 'a', createdAt: T0 + 9 }),
        newInvocation({ functionName: 'b', createdAt: T0 + 1 }),
      ]);
      await store.claim(claimReq(T0 + 10, [slot('a', 1)]));
      expect(await store.stats()).toEqual({
        pending: { a: 2, b: 1 },
        running: { a: 1 },
        oldestPendingAt: { a: T0 + 5, b: T0 + 1 },
      });
      expect(await store.stats(['b'])).toEqual({ pending: { b: 1 }, running: {}, oldestPendingAt: { b: T0 + 1 } });
    });
  });

  describe('retention', () => {
    /** Enqueues, claims and succeeds `n` invocations ending at `endedAt + i`. */
    async function finish(store: Store, n: number, endedAt: number, extra: Partial<NewInvocation> = {}) {
      const items = Array.from({ length: n }, (_, i) =>
        newInvocation({ createdAt: endedAt - 1, ...extra, ...(extra.invocationId ? { invocationId: `${extra.invocationId}_${i}` } : {}) }),
      );
      await store.enqueue(items);
      const claimed = (await store.claim(claimReq(endedAt - 1, [slot(extra.functionName ?? 'fn', n)], n))).items;
      for (const [i, c] of claimed.entries()) {
        expect(await store.settle([succeed(c.record.requestId, c.leaseToken, endedAt + i)])).toEqual(['ok']);
      }
      return items.map((i) => i.requestId);
    }

    it('prunes finished invocations older than maxAgeSeconds, keeping unfinished and owed work', async () => {
      const store = await open({ retention: { maxAgeSeconds: 60 } });
      const old = await finish(store, 3, T0 + 1000, { invocationId: 'old_1', payloadKey: 'k' });
      const pending = newInvocation({ createdAt: T0, scheduledAt: T0 + DAY });
      const owed = newInvocation({ createdAt: T0 });
      await store.enqueue([pending, owed]);
      const [c] = (await store.claim(claimReq(T0 + 1000, [slot('fn', 1)]))).items;
      expect(c!.record.requestId).toBe(owed.requestId);
      const delivery = { target: 'onSuccess', status: 'Pending', attempts: 0, since: T0 + 1000 } as const;
      await store.settle([{ ...succeed(owed.requestId, c!.leaseToken, T0 + 1000), dueAt: T0 + DAY, delivery }]);
      const fresh = await finish(store, 2, T0 + 50_000);
      const removed = await store.prune(T0 + 1000 + 61_000);
      expect(removed).toBe(3);
      for (const id of old) expect(await store.get(id)).toBeUndefined();
      for (const id of [...fresh, pending.requestId, owed.requestId]) expect(await store.get(id)).toBeDefined();
      // A pruned invocation's idempotency id is free again.
      const again = newInvocation({ invocationId: 'old_1_0', payloadKey: 'k' });
      expect(await store.enqueue([again])).toEqual([{ requestId: again.requestId, outcome: 'created' }]);
    });

    it('keeps at most maxCount finished invocations, oldest pruned first', async () => {
      const store = await open({ retention: { maxCount: 4 } });
      const done = await finish(store, 7, T0 + 100);
      const waiting = newInvocation({ createdAt: T0 + 200 });
      await store.enqueue([waiting]);
      await store.prune(T0 + 300);
      const left = (await store.list({ limit: 100 })).items.map((r) => r.requestId);
      expect(left.sort()).toEqual([...done.slice(3), waiting.requestId].sort());
      expect(await store.prune(T0 + 301)).toBe(0);
    });
  });

  describe('subscribe', () => {
    it('signals due work on enqueue and retry, and stop for a running invocation; unsubscribe ends it', async () => {
      const store = await open();
      const signals: StoreSignal[] = [];
      const off = store.subscribe((s) => signals.push(s));
      const inv = newInvocation({ functionName: 'sig', scheduledAt: T0 + 50 });
      await store.enqueue([inv]);
      await waitFor(() => signals.some((s) => s.type === 'due' && s.functionName === 'sig' && s.at === T0 + 50), { what: 'due signal on enqueue', timeoutMs: 3000 });
      const [c] = (await store.claim(claimReq(T0 + 50, [slot('sig')]))).items;
      await store.settle([{ requestId: inv.requestId, leaseToken: c!.leaseToken, status: 'Retrying', events: [], dueAt: T0 + 2000 }]);
      await waitFor(() => signals.some((s) => s.type === 'due' && s.functionName === 'sig' && s.at === T0 + 2000), { what: 'due signal on retry', timeoutMs: 3000 });
      const [c2] = (await store.claim(claimReq(T0 + 2000, [slot('sig')]))).items;
      expect(c2).toBeDefined();
      await store.requestStop({ requestId: inv.requestId, now: T0 + 2001, deliverOnFailure: false });
      await waitFor(() => signals.some((s) => s.type === 'stop' && s.requestId === inv.requestId), { what: 'stop signal', timeoutMs: 3000 });
      off();
      const count = signals.length;
      await store.enqueue([newInvocation({ functionName: 'sig' })]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(signals.length).toBe(count);
    });
  });

  describe('subscribe, late', () => {
    it('tells a subscriber about work that became due before its wake-up channel was in place', async () => {
      const [a, b] = await pair();
      // b has claimed for `late` (nothing yet), then work arrives before b listens: that signal is gone.
      expect((await b.claim(claimReq(T0, [slot('late')]))).items).toEqual([]);
      await a.enqueue([newInvocation({ functionName: 'late', createdAt: T0 + 1 })]);
      const signals: StoreSignal[] = [];
      b.subscribe((s) => signals.push(s));
      await waitFor(() => signals.some((s) => s.type === 'due' && s.functionName === 'late' && s.at <= T0 + 1), {
        what: 'a due signal for work enqueued before the subscription',
        timeoutMs: 5000,
      });
    });
  });

  it('close is idempotent', async () => {
    const store = await open();
    await store.close();
    await store.close();
  });

  describe('end to end', () => {
    it('runs a handler through failed attempts to Succeeded on a real invoker with a fake clock', async () => {
      const store = await open();
      const clock = fakeClock(T0);
      const invoker = createInvoker({ store, clock, concurrency: 4 });
      let calls = 0;
      invoker.register(
        'flaky',
        (payload: { value: number }, ctx) => {
          calls++;
          if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt} fails`);
          return { doubled: payload.value * 2 };
        },
        { retryBackoff: { initialDelayMs: 1000, jitter: 'none' } },
      );
      try {
        const { requestId } = await invoker.invokeAsync('flaky', { value: 21 });
        await waitFor(async () => {
          await clock.advance(500);
          return (await invoker.getInvocation(requestId))?.status === 'Succeeded';
        }, { what: 'flaky to succeed', timeoutMs: 15_000 });
        const record = (await invoker.getInvocation(requestId))!;
        expect(record).toMatchObject({ status: 'Succeeded', attempts: 3, result: { doubled: 42 }, condition: '' });
        expect(record.error).toBeUndefined();
        expect(calls).toBe(3);
        expect(record.events.filter((e) => e.status === 'Retrying')).toHaveLength(2);
      } finally {
        await invoker.close();
      }
    });
  });
}
