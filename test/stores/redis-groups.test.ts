/**
 * The Redis store's group indexes (gwork, glease, gof: see scripts/lib.lua) stay in step with the
 * records through every operation, whatever claims them (without limits, with concurrency, grouped):
 * after random operation sequences, each record with a group is in its group's due work exactly
 * when unleased and due (at its dueAt), in the leases exactly when leased (at its lease expiry),
 * and the indexes hold nothing else.
 */
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClaimSlot, FunctionLimits, Settlement, Store } from '../../src/stores/contract.js';
import { redisStore } from '../../src/stores/redis/index.js';
import { waitFor } from '../helpers.js';
import { dropPrefix, REDIS_URL, redisAvailable } from './redis-server.js';

const T0 = Date.UTC(2026, 0, 1);
const FUNCTIONS = ['a', 'b'] as const;
const LIMITS: (FunctionLimits | undefined)[] = [undefined, { concurrency: 1 }, { grouped: true, groupConcurrency: 1 }, { grouped: true }, { perSecond: 2 }];

type Op =
  | { op: 'enqueue'; fn: number; group: number; delay: number }
  | { op: 'claim'; fns: number; limits: number; slotLimit: number }
  | { op: 'settle'; pick: number; kind: 'retry' | 'succeed' | 'owe' | 'keep'; delay: number }
  | { op: 'heartbeat'; pick: number }
  | { op: 'stop'; pick: number; deliver: boolean }
  | { op: 'advance'; ms: number }
  | { op: 'prune' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('enqueue' as const), fn: fc.nat(1), group: fc.nat(2), delay: fc.constantFrom(0, 0, 500) }),
  fc.record({ op: fc.constant('claim' as const), fns: fc.integer({ min: 1, max: 3 }), limits: fc.nat(LIMITS.length - 1), slotLimit: fc.constantFrom(1, 2, 100) }),
  fc.record({ op: fc.constant('settle' as const), pick: fc.nat(), kind: fc.constantFrom('retry', 'succeed', 'owe', 'keep'), delay: fc.constantFrom(0, 700) }),
  fc.record({ op: fc.constant('heartbeat' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('stop' as const), pick: fc.nat(), deliver: fc.boolean() }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(1, 400, 1200, 6000) }),
  fc.record({ op: fc.constant('prune' as const) }),
);

function settlement(kind: Extract<Op, { op: 'settle' }>['kind'], requestId: string, leaseToken: string, now: number, delay: number): Settlement {
  const base = { requestId, leaseToken, events: [{ at: now, status: 'Running' as const, attempt: 1 }] };
  switch (kind) {
    case 'retry':
      return { ...base, status: 'Retrying', dueAt: now + delay, scheduledAt: now + delay };
    case 'succeed':
      return { ...base, status: 'Succeeded', dueAt: null, endedAt: now, result: 1, condition: '' };
    case 'owe':
      return { ...base, status: 'Succeeded', dueAt: now + delay, endedAt: now, condition: '', delivery: { target: 'onSuccess', status: 'Pending', attempts: 0, since: now } };
    case 'keep':
      return { ...base, status: 'Succeeded', dueAt: now + 1000, endedAt: now, condition: '', keepLease: true };
  }
}

/**
 * A logical database of its own on the shared server: the checks and the clean-up scan keys, and
 * on database 0 that would take as long as whatever else the server holds.
 */
const GROUPS_URL = `${REDIS_URL.replace(/\/\d*$/, '')}/9`;

describe.skipIf(!redisAvailable)('redis store: group indexes', () => {
  const runId = randomBytes(4).toString('hex');
  let n = 0;
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(GROUPS_URL);
  });
  afterAll(async () => {
    await dropPrefix(`g${runId}-*`, admin);
    admin.disconnect();
  });

  /**
   * The indexes as they should be from the records, and as they are. `ids`: every requestId the
   * test enqueued (read one by one rather than found by a SCAN, which reads the whole keyspace).
   */
  async function indexes(prefix: string, fn: string, ids: readonly string[]): Promise<{ expected: unknown; actual: unknown }> {
    const tag = `{${prefix}:${fn}}`;
    const gof = await admin.hgetall(`${tag}:gof`);
    const work: string[] = [];
    const leases: [string, number][] = [];
    const groups: Record<string, string> = {};
    for (const [rid, group] of Object.entries(gof)) {
      const record = await admin.hgetall(`${tag}:inv:${rid}`);
      if (record.status === undefined) continue; // gof holds no record that is gone: shown by the comparison
      groups[rid] = group;
      if (record.lease !== undefined) leases.push([rid, Number(record.dueAt)]);
      else if (record.dueAt !== undefined) work.push(`${group}\0${record.dueAt.padStart(16, '0')}\0${rid}`);
    }
    // Every record stored with a group key is in gof with it.
    for (const id of ids) {
      const [rid, group] = await admin.hmget(`${tag}:inv:${id}`, 'requestId', 'groupKey');
      if (rid !== null && group !== null) groups[rid] ??= `missing ${group}`;
    }
    const actualLeases = await admin.zrange(`${tag}:glease`, 0, -1, 'WITHSCORES');
    return {
      expected: { gof: groups, work: work.sort(), leases: leases.sort() },
      actual: {
        gof,
        work: (await admin.zrange(`${tag}:gwork`, 0, -1)).sort(),
        leases: Array.from({ length: actualLeases.length / 2 }, (_, i): [string, number] => [actualLeases[2 * i]!, Number(actualLeases[2 * i + 1])]).sort(),
      },
    };
  }

  async function check(ops: Op[]): Promise<void> {
    const prefix = `g${runId}-${n++}`;
    const store: Store = redisStore({ url: GROUPS_URL, prefix, retention: { maxAgeSeconds: 1 } });
    const tokens = new Map<string, string>();
    const ids: string[] = [];
    let now = T0;
    try {
      for (const [step, op] of ops.entries()) {
        switch (op.op) {
          case 'enqueue': {
            const requestId = `r${String(ids.length).padStart(4, '0')}`;
            ids.push(requestId);
            await store.enqueue([{
              requestId, functionName: FUNCTIONS[op.fn]!, payload: {}, createdAt: now, scheduledAt: now + op.delay, hops: 0,
              ...(op.group < 2 ? { groupKey: `g${op.group}` } : {}),
            }]);
            break;
          }
          case 'claim': {
            const limits = LIMITS[op.limits];
            const slots: ClaimSlot[] = FUNCTIONS.filter((_, i) => op.fns & (1 << i)).map((functionName) =>
              limits ? { functionName, limit: op.slotLimit, maxEventAgeMs: 3000, limits } : { functionName, limit: op.slotLimit, maxEventAgeMs: 3000 });
            const { items } = await store.claim({ now, leaseMs: 1000, limit: 100, slots });
            for (const c of items) tokens.set(c.record.requestId, c.leaseToken);
            break;
          }
          case 'settle': {
            if (!ids.length) break;
            const rid = ids[op.pick % ids.length]!;
            await store.settle([settlement(op.kind, rid, tokens.get(rid) ?? 'none', now, op.delay)]);
            break;
          }
          case 'heartbeat': {
            if (!ids.length) break;
            const rid = ids[op.pick % ids.length]!;
            await store.heartbeat({ now, leaseMs: 2000, leases: [{ requestId: rid, leaseToken: tokens.get(rid) ?? 'none' }] });
            break;
          }
          case 'stop':
            if (ids.length) await store.requestStop({ requestId: ids[op.pick % ids.length]!, now, deliverOnFailure: op.deliver });
            break;
          case 'advance':
            now += op.ms;
            break;
          case 'prune':
            await store.prune(now);
            break;
        }
        for (const fn of FUNCTIONS) {
          // A background retention pass may remove records between the reads: read until a view holds still.
          let view = await indexes(prefix, fn, ids);
          await waitFor(async () => {
            if (isDeepStrictEqual(view.actual, view.expected)) return true;
            view = await indexes(prefix, fn, ids);
            return false;
          }, { what: 'the group indexes to match the records', timeoutMs: 500, intervalMs: 20 }).catch(() => undefined);
          expect(view.actual, `step ${step} ${JSON.stringify(op)}: ${fn}`).toEqual(view.expected);
        }
      }
    } finally {
      await store.close();
      await dropPrefix(prefix, admin);
    }
  }

  it('puts due work the group indexes lack (an older version retried it) back at the first grouped claim', async () => {
    const prefix = `g${runId}-${n++}`;
    const store = redisStore({ url: GROUPS_URL, prefix });
    try {
      const item = { requestId: 'r-lost', functionName: 'a', payload: {}, createdAt: T0, scheduledAt: T0, hops: 0, groupKey: 'g0' };
      await store.enqueue([item]);
      // What a claim and a retry by a version that kept no group indexes leave: due, in no group's work.
      expect(await admin.zrem(`{${prefix}:a}:gwork`, `g0\0${String(T0).padStart(16, '0')}\0r-lost`)).toBe(1);
      const slot = { functionName: 'a', limit: 10, maxEventAgeMs: 60_000, limits: { grouped: true } };
      const { items } = await store.claim({ now: T0, leaseMs: 1000, limit: 10, slots: [slot] });
      expect(items.map((c) => [c.kind, c.record.requestId, c.record.groupKey])).toEqual([['run', 'r-lost', 'g0']]);
    } finally {
      await store.close();
      await dropPrefix(prefix, admin);
    }
  });

  it('keeps the group indexes in step with the records through random operations', async () => {
    await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 40 }), check), { numRuns: 40 });
  }, 120_000);
});
