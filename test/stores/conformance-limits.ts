/**
 * Conformance cases for flow control: limits enforced by the store inside the claim, across
 * store instances (processes): global concurrency, starts per second, per-group concurrency and
 * round-robin between groups. Held-back work stays Enqueued, keeps its place, and still expires.
 */
import { describe, expect, it } from 'vitest';
import type { ClaimSlot, FunctionLimits, Settlement, StoreSignal } from '../../src/stores/contract.js';
import { waitFor } from '../helpers.js';
import { claimReq, DAY, LEASE, newInvocation, succeed, T0, type SuiteContext } from './conformance-helpers.js';

function limited(limits: FunctionLimits, limit = 100, maxEventAgeMs = DAY, functionName = 'fn'): ClaimSlot {
  return { functionName, limit, maxEventAgeMs, limits };
}

const ids = (result: { items: { record: { requestId: string } }[] }) => result.items.map((c) => c.record.requestId);

function retry(requestId: string, leaseToken: string, now: number, dueAt: number): Settlement {
  return { requestId, leaseToken, status: 'Retrying', events: [{ at: now, status: 'Retrying', attempt: 1 }], dueAt, scheduledAt: dueAt, wake: true };
}

export function limitCases({ open, pair }: SuiteContext): void {
  describe('limits', () => {
    it('holds running attempts to limits.concurrency across instances, and frees a slot when one settles', async () => {
      const [a, b] = await pair();
      const items = Array.from({ length: 5 }, (_, i) => newInvocation({ createdAt: T0 + i }));
      await a.enqueue(items);
      const slot = limited({ concurrency: 2 });
      const first = await a.claim(claimReq(T0 + 10, [slot]));
      expect(ids(first)).toEqual([items[0]!.requestId, items[1]!.requestId]);
      // The first invocation passed over says when held-back work would expire.
      const held = { functionName: 'fn', reason: 'concurrency', expiresAt: T0 + 2 + DAY + 1 };
      expect(first.heldBack).toEqual([held]);
      const second = await b.claim(claimReq(T0 + 11, [slot]));
      expect(second.items).toEqual([]);
      // Seen from another worker: the slots free when the running attempts' leases lapse, at the latest.
      expect(second.heldBack).toEqual([{ ...held, freesAt: T0 + 10 + LEASE }]);
      expect(await a.get(items[2]!.requestId)).toMatchObject({ status: 'Enqueued', attempts: 0 });
      expect(await a.settle([{ ...succeed(items[0]!.requestId, first.items[0]!.leaseToken, T0 + 12), wake: true }])).toEqual(['ok']);
      // The held-back work kept its place: the oldest waiting one goes first.
      expect(ids(await b.claim(claimReq(T0 + 13, [slot])))).toEqual([items[2]!.requestId]);
      // Without limits, as before.
      expect(ids(await b.claim(claimReq(T0 + 14, [limited({})])))).toEqual([items[3]!.requestId, items[4]!.requestId]);
    });

    it('does not count the attempts a claim says ended (settlements on the way) as running; other claims still do', async () => {
      const [a, b] = await pair();
      const items = Array.from({ length: 6 }, (_, i) => newInvocation({ groupKey: i < 3 ? 'A' : 'B', createdAt: T0 + i }));
      await a.enqueue(items);
      const slot = limited({ concurrency: 2 });
      const first = await a.claim(claimReq(T0 + 10, [slot]));
      expect(ids(first)).toEqual([items[0]!.requestId, items[1]!.requestId]);
      const ended = first.items.map((c) => ({ functionName: 'fn', requestId: c.record.requestId, leaseToken: c.leaseToken }));
      // Another worker's claim counts them: both slots taken.
      const elsewhere = await b.claim(claimReq(T0 + 11, [slot]));
      expect(elsewhere.items).toEqual([]);
      expect(elsewhere.heldBack?.[0]?.reason).toBe('concurrency');
      // Naming an attempt of another function, or a running one with a lease token it does not
      // hold (its lease passed to another worker), frees nothing.
      for (const stale of [{ functionName: 'other', requestId: 'nope', leaseToken: 'nope' }, { ...ended[1]!, leaseToken: 'fn|not-the-lease' }]) {
        expect((await a.claim({ ...claimReq(T0 + 12, [slot]), ended: [stale] })).items).toEqual([]);
      }
      // The worker that ended one of them claims its freed slot before the settlement lands.
      const next = await a.claim({ ...claimReq(T0 + 13, [slot]), ended: ended.slice(0, 1) });
      expect(ids(next)).toEqual([items[2]!.requestId]);
      expect(next.heldBack?.[0]?.reason).toBe('concurrency');
      // The same for a group's limit: group A's running attempts less the one said ended.
      const grouped = limited({ grouped: true, groupConcurrency: 1 });
      await a.settle([succeed(items[1]!.requestId, first.items[1]!.leaseToken, T0 + 14), succeed(items[2]!.requestId, next.items[0]!.leaseToken, T0 + 14)]);
      await a.enqueue(items.slice(3, 4).map(() => newInvocation({ groupKey: 'A', createdAt: T0 + 15 })));
      const byGroup = await b.claim(claimReq(T0 + 16, [grouped]));
      // A still has items[0] running: only B's first goes.
      expect(ids(byGroup)).toEqual([items[3]!.requestId]);
      const afterEnd = await b.claim({ ...claimReq(T0 + 17, [{ ...grouped, limit: 1 }]), ended: ended.slice(0, 1) });
      expect(afterEnd.items.map((c) => c.record.groupKey)).toEqual(['A']);
    });

    it('says when a slot frees from the leases running as the claim began, not those it took itself', async () => {
      // A retried invocation the claim did not expect makes the Redis claim read the due index
      // in a second round trip, after the first took one: found by the model test (seed 305984832).
      const store = await open();
      const [a, b, c] = [newInvocation(), newInvocation(), newInvocation()];
      const d = newInvocation({ createdAt: T0 + 1 });
      await store.enqueue([a, b, c, d]);
      const slot = limited({ concurrency: 2 }, 100, 2000);
      const first = await store.claim(claimReq(T0 + 1, [slot], 200, 5000));
      expect(ids(first)).toEqual([a.requestId, b.requestId]);
      expect(await store.settle([retry(a.requestId, first.items[0]!.leaseToken, T0 + 1, T0 + 1)])).toEqual(['ok']);
      const second = await store.claim(claimReq(T0 + 1, [slot], 200, 1000));
      expect(ids(second)).toEqual([c.requestId]);
      // b's lease (T0 + 5001) was running when the claim began; c's (T0 + 1001) is the claim's own.
      expect(second.heldBack).toEqual([{ functionName: 'fn', reason: 'concurrency', expiresAt: T0 + 2001, freesAt: T0 + 5001 }]);
    });

    it('gives the slots of a worker that died back when its leases lapse', async () => {
      const store = await open();
      const [x, y] = [newInvocation({ createdAt: T0 }), newInvocation({ createdAt: T0 + 1 })];
      await store.enqueue([x, y]);
      const slot = limited({ concurrency: 1 });
      expect(ids(await store.claim(claimReq(T0 + 2, [slot], 100, 1000)))).toEqual([x.requestId]);
      const waiting = await store.claim(claimReq(T0 + 500, [slot], 100, 1000));
      expect(waiting.items).toEqual([]);
      // Nothing signals a dead worker: the held-back answer says when its slot frees.
      expect(waiting.heldBack).toEqual([{ functionName: 'fn', reason: 'concurrency', expiresAt: T0 + 1 + DAY + 1, freesAt: T0 + 2 + 1000 }]);
      // x's worker died: once its lease lapses the slot is free (y, due first, runs), and x is recovered.
      const after = await store.claim(claimReq(T0 + 1002, [slot], 100, 1000));
      expect(after.items.map((c) => [c.kind, c.record.requestId])).toEqual([['run', y.requestId], ['recover', x.requestId]]);
    });

    it('starts at most limits.perSecond attempts in any one-second interval, saying when the next may start', async () => {
      const [a, b] = await pair();
      await a.enqueue(Array.from({ length: 10 }, (_, i) => newInvocation({ createdAt: T0 + i })));
      const slot = limited({ perSecond: 3 });
      const first = await a.claim(claimReq(T0 + 100, [limited({ perSecond: 3 }, 2)]));
      expect(first.items).toHaveLength(2);
      const second = await b.claim(claimReq(T0 + 400, [slot]));
      expect(second.items).toHaveLength(1);
      expect(second.heldBack).toEqual([{ functionName: 'fn', reason: 'rate', retryAt: T0 + 1100, expiresAt: T0 + 3 + DAY + 1 }]);
      const early = await a.claim(claimReq(T0 + 1099, [slot]));
      expect(early.items).toEqual([]);
      expect(early.heldBack).toEqual([{ functionName: 'fn', reason: 'rate', retryAt: T0 + 1100, expiresAt: T0 + 3 + DAY + 1 }]);
      // The first two starts left the window; the third (at T0 + 400) is still in it.
      const next = await b.claim(claimReq(T0 + 1100, [slot]));
      expect(next.items).toHaveLength(2);
      expect(next.heldBack).toEqual([{ functionName: 'fn', reason: 'rate', retryAt: T0 + 1400, expiresAt: T0 + 5 + DAY + 1 }]);
    });

    it('holds running attempts per group to groupConcurrency, and serves groups round-robin', async () => {
      const store = await open();
      // 6 of group A enqueued before 2 of B and 1 of C.
      const a = Array.from({ length: 6 }, (_, i) => newInvocation({ groupKey: 'A', createdAt: T0 + i }));
      const b = [newInvocation({ groupKey: 'B', createdAt: T0 + 10 }), newInvocation({ groupKey: 'B', createdAt: T0 + 11 })];
      const c = [newInvocation({ groupKey: 'C', createdAt: T0 + 12 })];
      await store.enqueue([...a, ...b, ...c]);
      const oneEach = await store.claim(claimReq(T0 + 20, [limited({ grouped: true, groupConcurrency: 1 })]));
      expect(ids(oneEach)).toEqual([a[0]!.requestId, b[0]!.requestId, c[0]!.requestId]);
      // Passed over: A's and B's next (A's is older).
      expect(oneEach.heldBack).toEqual([{ functionName: 'fn', reason: 'group', expiresAt: T0 + 1 + DAY + 1 }]);
      expect((await store.get(a[0]!.requestId))!.groupKey).toBe('A');
      for (const claimed of oneEach.items) await store.settle([{ ...succeed(claimed.record.requestId, claimed.leaseToken, T0 + 21), wake: true }]);
      // Round-robin without a per-group cap: the least recently started group first (C, then A/B by
      // their start order), never A's backlog ahead of B.
      const next = await store.claim(claimReq(T0 + 22, [limited({ grouped: true }, 4)]));
      expect(ids(next)).toEqual([a[1]!.requestId, b[1]!.requestId, a[2]!.requestId, a[3]!.requestId]);
    });

    it('does not let one group\'s backlog hold up another group\'s work', async () => {
      const store = await open();
      await store.enqueue(Array.from({ length: 200 }, (_, i) => newInvocation({ groupKey: 'A', createdAt: T0 + i })));
      const late = Array.from({ length: 10 }, (_, i) => newInvocation({ groupKey: 'B', createdAt: T0 + 1000 + i }));
      await store.enqueue(late);
      const started: string[] = [];
      for (let round = 0; started.filter((id) => late.some((l) => l.requestId === id)).length < 10; round++) {
        expect(round, 'claims before all of B ran').toBeLessThan(10);
        const { items } = await store.claim(claimReq(T0 + 2000 + round, [limited({ grouped: true }, 4)]));
        for (const c of items) {
          started.push(c.record.requestId);
          await store.settle([succeed(c.record.requestId, c.leaseToken, T0 + 2000 + round)]);
        }
      }
      // B's 10 ran within the first 20 starts, alternating with A.
      expect(started.length).toBeLessThanOrEqual(20);
    });

    it('serves work enqueued without a group key (before the function had groupBy) as one group of its own', async () => {
      const store = await open();
      const plain = newInvocation({ createdAt: T0 });
      const a = [newInvocation({ groupKey: 'A', createdAt: T0 + 1 }), newInvocation({ groupKey: 'A', createdAt: T0 + 2 })];
      await store.enqueue([plain, ...a]);
      const result = await store.claim(claimReq(T0 + 10, [limited({ grouped: true, groupConcurrency: 1 })]));
      expect(ids(result)).toEqual([plain.requestId, a[0]!.requestId]);
      expect(result.heldBack).toEqual([{ functionName: 'fn', reason: 'group', expiresAt: T0 + 2 + DAY + 1 }]);
    });

    it('still expires held-back work by age, whatever the limits', async () => {
      const store = await open();
      const [running, old] = [newInvocation({ createdAt: T0 }), newInvocation({ createdAt: T0 + 1 })];
      await store.enqueue([running, old]);
      const slot = limited({ concurrency: 1, perSecond: 1 }, 100, 5000);
      expect(ids(await store.claim(claimReq(T0 + 2, [slot])))).toEqual([running.requestId]);
      const later = await store.claim(claimReq(T0 + 10_000, [slot]));
      expect(later.items.map((c) => [c.kind, c.record.requestId])).toEqual([['expire', old.requestId]]);
    });

    it('signals a due wake-up to other instances when a limited slot is freed while work waits for it', async () => {
      const [a, b] = await pair();
      const inv = newInvocation({ functionName: 'lim' });
      await a.enqueue([inv, newInvocation({ functionName: 'lim' })]);
      const held = await a.claim(claimReq(T0, [limited({ concurrency: 1 }, 100, DAY, 'lim')]));
      expect(held.heldBack).toEqual([{ functionName: 'lim', reason: 'concurrency', expiresAt: T0 + DAY + 1 }]);
      const [c] = held.items;
      const signals: StoreSignal[] = [];
      b.subscribe((s) => signals.push(s));
      // b's wake-up channel is in place once it hears a probe enqueued through a.
      await waitFor(async () => {
        await a.enqueue([newInvocation({ functionName: 'probe' })]);
        return signals.some((s) => s.type === 'due' && s.functionName === 'probe');
      }, { what: 'b to be subscribed', intervalMs: 20 });
      const count = () => signals.filter((s) => s.type === 'due' && s.functionName === 'lim').length;
      const before = count();
      expect(await a.settle([{ ...succeed(inv.requestId, c!.leaseToken, T0 + 1), wake: true }])).toEqual(['ok']);
      await waitFor(() => count() > before, { what: 'a due signal after the slot was freed', timeoutMs: 5000 });
    });
  });
}
