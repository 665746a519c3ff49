/** Conformance cases: enqueue, claim, settle, heartbeat, requestStop (see conformance.ts). */
import { describe, expect, it } from 'vitest';
import type { Settlement } from '../../src/stores/contract.js';
import { claimReq, DAY, LEASE, newInvocation, slot, succeed, T0, type SuiteContext } from './conformance-helpers.js';

export function leaseCases({ open, pair }: SuiteContext): void {
  describe('enqueue', () => {
    it('creates Enqueued records with attempts 0, one Enqueued event and dueAt = scheduledAt', async () => {
      const store = await open();
      const a = newInvocation({ scheduledAt: T0 + 5000, payload: { deep: [1, 'x', null, { y: true }] } });
      const b = newInvocation({ detail: 'from destination', hops: 2, invocationId: 'job_1', payloadKey: '{"n":0}' });
      const results = await store.enqueue([a, b]);
      expect(results).toEqual([
        { requestId: a.requestId, outcome: 'created' },
        { requestId: b.requestId, outcome: 'created' },
      ]);
      const ra = await store.get(a.requestId);
      expect(ra).toMatchObject({
        requestId: a.requestId,
        functionName: 'fn',
        status: 'Enqueued',
        payload: a.payload,
        attempts: 0,
        createdAt: T0,
        scheduledAt: T0 + 5000,
        dueAt: T0 + 5000,
        throttles: 0,
        hops: 0,
        events: [{ at: T0, status: 'Enqueued', attempt: 0 }],
      });
      expect(ra!.events).toHaveLength(1);
      expect(ra!.leaseToken).toBeUndefined();
      expect(ra!.startedAt).toBeUndefined();
      expect(ra!.endedAt).toBeUndefined();
      expect(ra!.invocationId).toBeUndefined();
      const rb = await store.get(b.requestId);
      expect(rb).toMatchObject({ hops: 2, invocationId: 'job_1', events: [{ at: T0, status: 'Enqueued', attempt: 0, detail: 'from destination' }] });
      expect(await store.get('no-such-id')).toBeUndefined();
    });

    it('is idempotent on (functionName, invocationId): duplicate with an equal payload key, conflict otherwise', async () => {
      const store = await open();
      const first = newInvocation({ invocationId: 'job_42', payloadKey: '{"a":1}' });
      expect(await store.enqueue([first])).toEqual([{ requestId: first.requestId, outcome: 'created' }]);
      const same = newInvocation({ invocationId: 'job_42', payloadKey: '{"a":1}' });
      const other = newInvocation({ invocationId: 'job_42', payloadKey: '{"a":2}' });
      const otherFn = newInvocation({ functionName: 'fn2', invocationId: 'job_42', payloadKey: '{"a":1}' });
      expect(await store.enqueue([same, other, otherFn])).toEqual([
        { requestId: first.requestId, outcome: 'duplicate' },
        { requestId: first.requestId, outcome: 'conflict' },
        { requestId: otherFn.requestId, outcome: 'created' },
      ]);
      expect(await store.get(same.requestId)).toBeUndefined();
      expect(await store.get(other.requestId)).toBeUndefined();
      // Within one batch, the second of two equal ids is the duplicate.
      const x1 = newInvocation({ invocationId: 'job_43', payloadKey: 'k' });
      const x2 = newInvocation({ invocationId: 'job_43', payloadKey: 'k' });
      expect(await store.enqueue([x1, x2])).toEqual([
        { requestId: x1.requestId, outcome: 'created' },
        { requestId: x1.requestId, outcome: 'duplicate' },
      ]);
    });

    it('lets exactly one of many concurrent enqueues with the same invocationId win', async () => {
      const [a, b] = await pair();
      const calls = Array.from({ length: 12 }, (_, i) =>
        (i % 2 ? a : b).enqueue([newInvocation({ invocationId: 'race_1', payloadKey: 'same' })]),
      );
      const results = (await Promise.all(calls)).map((r) => r[0]!);
      expect(results.filter((r) => r.outcome === 'created')).toHaveLength(1);
      expect(results.filter((r) => r.outcome === 'duplicate')).toHaveLength(11);
      expect(new Set(results.map((r) => r.requestId)).size).toBe(1);
      expect((await a.list({ limit: 100 })).items).toHaveLength(1);
    });
  });

  describe('claim', () => {
    it('takes over leases that lapse at the same time in insertion order', async () => {
      const store = await open();
      // b is enqueued first but due later: one claim leases both (a first), so their leases end together.
      const b = newInvocation({ scheduledAt: T0 + 500 });
      const a = newInvocation();
      await store.enqueue([b, a]);
      expect((await store.claim(claimReq(T0 + 500))).items.map((c) => c.record.requestId)).toEqual([a.requestId, b.requestId]);
      const after = await store.claim(claimReq(T0 + 500 + LEASE, [slot()], 1));
      expect(after.items.map((c) => [c.kind, c.record.requestId])).toEqual([['recover', b.requestId]]);
    });

    it('takes due work oldest dueAt first, leases it, and reports the next dueAt', async () => {
      const store = await open();
      const late = newInvocation({ scheduledAt: T0 + 3000 });
      const first = newInvocation({ scheduledAt: T0 + 1000 });
      const second = newInvocation({ scheduledAt: T0 + 2000 });
      const future = newInvocation({ scheduledAt: T0 + 60_000 });
      await store.enqueue([late, first, second, future]);
      expect((await store.claim(claimReq(T0 + 500))).items).toEqual([]);
      const now = T0 + 5000;
      const result = await store.claim(claimReq(now, [slot('fn', 2)]));
      expect(result.items.map((c) => c.record.requestId)).toEqual([first.requestId, second.requestId]);
      expect(result.nextDueAt).toBe(T0 + 3000);
      for (const c of result.items) {
        expect(c.kind).toBe('run');
        expect(typeof c.leaseToken).toBe('string');
        expect(c.leaseToken.length).toBeGreaterThan(0);
        expect(c.record).toMatchObject({ status: 'Running', attempts: 1, startedAt: now, dueAt: now + LEASE, leaseToken: c.leaseToken });
        expect(c.record.events.at(-1)).toEqual({ at: now, status: 'Running', attempt: 1 });
        const stored = await store.get(c.record.requestId);
        expect(stored).toMatchObject({ status: 'Running', attempts: 1, startedAt: now, dueAt: now + LEASE, leaseToken: c.leaseToken });
        expect(stored!.events).toHaveLength(2);
      }
      expect(result.items[0]!.leaseToken).not.toBe(result.items[1]!.leaseToken);
      const rest = await store.claim(claimReq(now));
      expect(rest.items.map((c) => c.record.requestId)).toEqual([late.requestId]);
      // Leased work counts too: its lease expiry is when it would be reclaimed.
      expect(rest.nextDueAt).toBe(now + LEASE);
    });

    it('respects per-slot and total limits and claims only the slots\' functions', async () => {
      const store = await open();
      await store.enqueue([
        ...Array.from({ length: 5 }, () => newInvocation({ functionName: 'a' })),
        ...Array.from({ length: 5 }, () => newInvocation({ functionName: 'b' })),
        ...Array.from({ length: 5 }, () => newInvocation({ functionName: 'c' })),
      ]);
      const now = T0 + 1;
      const r1 = await store.claim(claimReq(now, [slot('a', 2), slot('b', 10)], 4));
      const names = r1.items.map((c) => c.record.functionName);
      expect(names).toHaveLength(4);
      expect(names.filter((n) => n === 'a')).toHaveLength(2);
      expect(names.filter((n) => n === 'b')).toHaveLength(2);
      expect(names).not.toContain('c');
      const r2 = await store.claim(claimReq(now, [slot('a', 0), slot('b', 10)], 100));
      expect(r2.items.map((c) => c.record.functionName)).toEqual(['b', 'b', 'b']);
      const stats = await store.stats(['a', 'b', 'c']);
      expect(stats.pending).toMatchObject({ a: 3, c: 5 });
      expect(stats.running).toMatchObject({ a: 2, b: 5 });
    });

    it('returns work older than the slot\'s max event age as kind expire, leased but otherwise unchanged', async () => {
      const store = await open();
      const old = newInvocation({ createdAt: T0 });
      await store.enqueue([old]);
      const now = T0 + 10_000;
      const { items } = await store.claim(claimReq(now, [slot('fn', 10, 5_000)]));
      expect(items).toHaveLength(1);
      expect(items[0]!.kind).toBe('expire');
      expect(items[0]!.record).toMatchObject({ status: 'Enqueued', attempts: 0, dueAt: now + LEASE, leaseToken: items[0]!.leaseToken });
      expect(items[0]!.record.events).toHaveLength(1);
      expect(await store.get(old.requestId)).toMatchObject({ status: 'Enqueued', attempts: 0, leaseToken: items[0]!.leaseToken });
    });

    it('reclaims an expired lease as kind recover and fences the old holder out', async () => {
      const store = await open();
      const inv = newInvocation();
      await store.enqueue([inv]);
      const [first] = (await store.claim(claimReq(T0, [slot()], 10, 1000))).items;
      expect((await store.claim(claimReq(T0 + 999))).items).toEqual([]);
      const { items } = await store.claim(claimReq(T0 + 1000, [slot()], 10, 1000));
      expect(items).toHaveLength(1);
      const second = items[0]!;
      expect(second.kind).toBe('recover');
      expect(second.leaseToken).not.toBe(first!.leaseToken);
      expect(second.record).toMatchObject({ status: 'Running', attempts: 1, dueAt: T0 + 2000, leaseToken: second.leaseToken });
      expect(second.record.events).toHaveLength(2);
      expect(await store.settle([succeed(inv.requestId, first!.leaseToken, T0 + 1001)])).toEqual(['stale']);
      expect(await store.heartbeat({ now: T0 + 1001, leaseMs: 1000, leases: [{ requestId: inv.requestId, leaseToken: first!.leaseToken }] }))
        .toEqual({ lost: [inv.requestId], stopping: [] });
      expect(await store.settle([succeed(inv.requestId, second.leaseToken, T0 + 1002)])).toEqual(['ok']);
      expect(await store.get(inv.requestId)).toMatchObject({ status: 'Succeeded' });
    });

    it('takes expired leases and due work in one order, oldest dueAt first', async () => {
      const store = await open();
      const leased = newInvocation();
      await store.enqueue([leased]);
      await store.claim(claimReq(T0, [slot()], 10, 1000)); // its lease lapses at T0 + 1000
      const waiting = newInvocation(); // due at T0, before the lapse
      await store.enqueue([waiting]);
      const taken = async () => (await store.claim(claimReq(T0 + 6000, [slot()], 1, 1000))).items.map((c) => [c.kind, c.record.requestId]);
      expect(await taken()).toEqual([['run', waiting.requestId]]);
      expect(await taken()).toEqual([['recover', leased.requestId]]);
    });

    it('hands a final invocation with a pending delivery out as kind deliver', async () => {
      const store = await open();
      const inv = newInvocation();
      await store.enqueue([inv]);
      const [c] = (await store.claim(claimReq(T0))).items;
      const delivery = { target: 'onSuccess', status: 'Pending', attempts: 0, since: T0 + 10 } as const;
      expect(await store.settle([{ ...succeed(inv.requestId, c!.leaseToken, T0 + 10), dueAt: T0 + 10, delivery }])).toEqual(['ok']);
      const { items } = await store.claim(claimReq(T0 + 20));
      expect(items).toHaveLength(1);
      expect(items[0]!.kind).toBe('deliver');
      expect(items[0]!.record).toMatchObject({ status: 'Succeeded', attempts: 1, delivery, dueAt: T0 + 20 + LEASE });
      // Delivered: the delivery is cleared and nothing is due any more.
      const done: Settlement = { requestId: inv.requestId, leaseToken: items[0]!.leaseToken, status: 'Succeeded', events: [], dueAt: null, delivery: null };
      expect(await store.settle([done])).toEqual(['ok']);
      const after = await store.get(inv.requestId);
      expect(after!.delivery).toBeUndefined();
      expect(after!.dueAt).toBeUndefined();
      expect((await store.claim(claimReq(T0 + DAY))).items).toEqual([]);
    });

    it('never gives the same invocation to two concurrent claimers', async () => {
      const [a, b] = await pair();
      const all = Array.from({ length: 120 }, (_, i) => newInvocation({ scheduledAt: T0 + (i % 7) }));
      await a.enqueue(all);
      const seen = new Map<string, number>();
      for (let round = 0; round < 6 && seen.size < all.length; round++) {
        const claims = Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).claim(claimReq(T0 + 10, [slot('fn', 7)], 7)));
        for (const result of await Promise.all(claims)) {
          for (const c of result.items) seen.set(c.record.requestId, (seen.get(c.record.requestId) ?? 0) + 1);
        }
      }
      expect(seen.size).toBe(all.length);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
    });
  });

  describe('settle', () => {
    it('writes the fields given, appends events in order, and drops the lease unless keepLease', async () => {
      const store = await open();
      const inv = newInvocation();
      await store.enqueue([inv]);
      const [c] = (await store.claim(claimReq(T0))).items;
      const retry: Settlement = {
        requestId: inv.requestId,
        leaseToken: c!.leaseToken,
        status: 'Retrying',
        events: [
          { at: T0 + 5, status: 'Failed', attempt: 1, detail: 'boom' },
          { at: T0 + 5, status: 'Retrying', attempt: 1 },
        ],
        dueAt: T0 + 1005,
        scheduledAt: T0 + 1005,
        error: { errorType: 'Error', errorMessage: 'boom' },
        throttles: 2,
      };
      expect(await store.settle([retry])).toEqual(['ok']);
      const r = await store.get(inv.requestId);
      expect(r).toMatchObject({ status: 'Retrying', dueAt: T0 + 1005, scheduledAt: T0 + 1005, throttles: 2, error: retry.error, attempts: 1 });
      expect(r!.leaseToken).toBeUndefined();
      expect(r!.events.map((e) => e.status)).toEqual(['Enqueued', 'Running', 'Failed', 'Retrying']);
      expect(r!.events[2]).toEqual({ at: T0 + 5, status: 'Failed', attempt: 1, detail: 'boom' });
      expect((await store.claim(claimReq(T0 + 1004))).items).toEqual([]);
      const [c2] = (await store.claim(claimReq(T0 + 1005))).items;
      expect(c2).toMatchObject({ kind: 'run', record: { attempts: 2, startedAt: T0 } });
      // A success after a failed attempt: error null clears it; keepLease keeps the token.
      const keep: Settlement = { ...succeed(inv.requestId, c2!.leaseToken, T0 + 1010, 2), error: null, dueAt: T0 + 9999, keepLease: true };
      expect(await store.settle([keep])).toEqual(['ok']);
      const kept = await store.get(inv.requestId);
      expect(kept).toMatchObject({ status: 'Succeeded', result: { ok: true }, condition: '', endedAt: T0 + 1010, leaseToken: c2!.leaseToken, dueAt: T0 + 9999 });
      expect(kept!.error).toBeUndefined();
      expect(await store.settle([{ requestId: inv.requestId, leaseToken: c2!.leaseToken, status: 'Succeeded', events: [], dueAt: null }])).toEqual(['ok']);
      const final = await store.get(inv.requestId);
      expect(final!.leaseToken).toBeUndefined();
      expect(final!.dueAt).toBeUndefined();
      expect(final!.events.map((e) => e.status)).toEqual(['Enqueued', 'Running', 'Failed', 'Retrying', 'Running', 'Succeeded']);
    });

    it('is fenced by the lease token: wrong tokens and unknown records are stale and write nothing; results keep input order', async () => {
      const store = await open();
      const x = newInvocation();
      const y = newInvocation();
      await store.enqueue([x, y]);
      const claimed = (await store.claim(claimReq(T0))).items;
      const tokenOf = (id: string) => claimed.find((c) => c.record.requestId === id)!.leaseToken;
      const outcomes = await store.settle([
        succeed(x.requestId, 'not-the-token', T0 + 1),
        succeed(y.requestId, tokenOf(y.requestId), T0 + 1),
        succeed('missing', 'whatever', T0 + 1),
      ]);
      expect(outcomes).toEqual(['stale', 'ok', 'stale']);
      expect(await store.get(x.requestId)).toMatchObject({ status: 'Running', leaseToken: tokenOf(x.requestId) });
      expect((await store.get(x.requestId))!.events).toHaveLength(2);
      expect(await store.get(y.requestId)).toMatchObject({ status: 'Succeeded' });
      // A settled (unleased) record refuses its old token too.
      expect(await store.settle([succeed(y.requestId, tokenOf(y.requestId), T0 + 2)])).toEqual(['stale']);
    });

    it('refuses a non-final settlement of a Stopping invocation with `stopping`, accepts Stopped', async () => {
      const store = await open();
      const inv = newInvocation();
      await store.enqueue([inv]);
      const [c] = (await store.claim(claimReq(T0))).items;
      expect((await store.requestStop({ requestId: inv.requestId, now: T0 + 1, deliverOnFailure: false })).outcome).toBe('stopping');
      const retry: Settlement = {
        requestId: inv.requestId, leaseToken: c!.leaseToken, status: 'Retrying',
        events: [{ at: T0 + 2, status: 'Retrying', attempt: 1 }], dueAt: T0 + 1000,
      };
      expect(await store.settle([retry])).toEqual(['stopping']);
      expect(await store.get(inv.requestId)).toMatchObject({ status: 'Stopping', dueAt: T0 + LEASE });
      const stopped: Settlement = {
        requestId: inv.requestId, leaseToken: c!.leaseToken, status: 'Stopped',
        events: [{ at: T0 + 3, status: 'Stopped', attempt: 1 }], dueAt: null, endedAt: T0 + 3, condition: 'Stopped',
        error: { errorType: 'Stopped', errorMessage: 'stopped' },
      };
      expect(await store.settle([stopped])).toEqual(['ok']);
      expect(await store.get(inv.requestId)).toMatchObject({ status: 'Stopped', condition: 'Stopped', endedAt: T0 + 3 });
    });
  });

  describe('heartbeat', () => {
    it('renews held leases, reports lost ones and stop requests', async () => {
      const store = await open();
      const [x, y, z] = [newInvocation(), newInvocation(), newInvocation()];
      await store.enqueue([x, y, z]);
      const claimed = (await store.claim(claimReq(T0, [slot()], 10, 1000))).items;
      const lease = (id: string) => ({ requestId: id, leaseToken: claimed.find((c) => c.record.requestId === id)!.leaseToken });
      await store.requestStop({ requestId: y.requestId, now: T0 + 1, deliverOnFailure: false });
      const hb = await store.heartbeat({
        now: T0 + 900,
        leaseMs: 1000,
        leases: [lease(x.requestId), lease(y.requestId), { requestId: z.requestId, leaseToken: 'wrong' }, { requestId: 'gone', leaseToken: 't' }],
      });
      expect(hb.lost.sort()).toEqual(['gone', z.requestId].sort());
      expect(hb.stopping).toEqual([y.requestId]);
      expect(await store.get(x.requestId)).toMatchObject({ dueAt: T0 + 1900, leaseToken: lease(x.requestId).leaseToken });
      // Renewed leases are not reclaimed at the old expiry; the unrenewed one is.
      const { items } = await store.claim(claimReq(T0 + 1000, [slot()], 10, 1000));
      expect(items.map((c) => c.record.requestId)).toEqual([z.requestId]);
      expect(items[0]!.kind).toBe('recover');
    });
  });

  describe('requestStop', () => {
    it('stops waiting work directly, marks running work Stopping, leaves final work, and reports notFound', async () => {
      const store = await open();
      const [waiting, running, owed] = [newInvocation({ scheduledAt: T0 + 60_000 }), newInvocation(), newInvocation({ scheduledAt: T0 + 60_000 })];
      await store.enqueue([running]);
      await store.claim(claimReq(T0));
      await store.enqueue([waiting, owed]);

      const s1 = await store.requestStop({ requestId: waiting.requestId, now: T0 + 5, deliverOnFailure: false });
      expect(s1.outcome).toBe('stopped');
      expect(s1.record).toMatchObject({ status: 'Stopped', endedAt: T0 + 5, condition: 'Stopped', error: { errorType: 'Stopped' } });
      const stopped = await store.get(waiting.requestId);
      expect(stopped!.dueAt).toBeUndefined();
      expect(stopped!.events.at(-1)).toMatchObject({ at: T0 + 5, status: 'Stopped', attempt: 0 });

      const s2 = await store.requestStop({ requestId: owed.requestId, now: T0 + 6, deliverOnFailure: true });
      expect(s2.outcome).toBe('stopped');
      expect(await store.get(owed.requestId)).toMatchObject({
        status: 'Stopped', dueAt: T0 + 6, delivery: { target: 'onFailure', status: 'Pending', attempts: 0, since: T0 + 6 },
      });
      const deliver = await store.claim(claimReq(T0 + 7));
      expect(deliver.items.map((c) => [c.kind, c.record.requestId])).toEqual([['deliver', owed.requestId]]);

      const s3 = await store.requestStop({ requestId: running.requestId, now: T0 + 8, deliverOnFailure: false });
      expect(s3.outcome).toBe('stopping');
      expect(s3.record).toMatchObject({ status: 'Stopping' });
      const again = await store.requestStop({ requestId: running.requestId, now: T0 + 9, deliverOnFailure: false });
      expect(again.outcome).toBe('stopping');
      const stopping = await store.get(running.requestId);
      expect(stopping!.events.map((e) => e.status)).toEqual(['Enqueued', 'Running', 'Stopping']);
      expect(stopping!.leaseToken).toBeDefined();

      expect((await store.requestStop({ requestId: waiting.requestId, now: T0 + 10, deliverOnFailure: false })).outcome).toBe('final');
      expect((await store.requestStop({ requestId: 'nope', now: T0 + 10, deliverOnFailure: false })).outcome).toBe('notFound');
    });

    it('a Stopping invocation whose worker died is recovered for the next worker to settle', async () => {
      const store = await open();
      const inv = newInvocation();
      await store.enqueue([inv]);
      await store.claim(claimReq(T0, [slot()], 10, 1000));
      await store.requestStop({ requestId: inv.requestId, now: T0 + 1, deliverOnFailure: false });
      const { items } = await store.claim(claimReq(T0 + 1000));
      expect(items.map((c) => [c.kind, c.record.status])).toEqual([['recover', 'Stopping']]);
    });
  });

}
