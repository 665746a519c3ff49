/**
 * Model-based check, run on every store but the memory store (which is the model): random
 * operation sequences run against the memory store and the store under test side by side;
 * after every step their answers and their `get`/`list`/`stats` views must agree. Lease tokens
 * differ between stores by design, so records are compared with the token reduced to "leased
 * or not", and each store's own latest token is used for its calls.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/stores/memory.js';
import type { FunctionLimits, Settlement, Store, StoredInvocation } from '../../src/stores/contract.js';
import type { SuiteContext } from './conformance-helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const FUNCTIONS = ['a', 'b'] as const;

type Op =
  | { op: 'enqueue'; fn: 0 | 1; id: number | null; variant: number; delay: number; group: number }
  | { op: 'claim'; leaseMs: number; maxEventAgeMs: number; fns: number; limit: number; slotLimit: number }
  | { op: 'settle'; pick: number; rightToken: boolean; kind: 'retry' | 'lost' | 'succeed' | 'fail' | 'owe' | 'delivered' | 'stopped'; delay: number }
  | { op: 'heartbeat'; picks: number[]; leaseMs: number }
  | { op: 'stop'; pick: number; deliverOnFailure: boolean }
  | { op: 'advance'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('enqueue' as const),
    fn: fc.constantFrom(0 as const, 1 as const),
    id: fc.option(fc.integer({ min: 0, max: 2 })),
    variant: fc.integer({ min: 0, max: 1 }),
    delay: fc.constantFrom(0, 0, 500, 3000),
    group: fc.integer({ min: 0, max: 2 }),
  }),
  fc.record({
    op: fc.constant('claim' as const),
    leaseMs: fc.constantFrom(1000, 5000),
    maxEventAgeMs: fc.constantFrom(2000, 86_400_000),
    fns: fc.integer({ min: 1, max: 3 }),
    // Sometimes a total below the slots' sum, so how it is shared out between slots is compared too.
    limit: fc.constantFrom(200, 200, 1, 2, 3),
    slotLimit: fc.constantFrom(100, 100, 1, 2),
  }),
  fc.record({
    op: fc.constant('settle' as const),
    pick: fc.nat(),
    rightToken: fc.boolean(),
    kind: fc.constantFrom('retry', 'lost', 'succeed', 'fail', 'owe', 'delivered', 'stopped'),
    delay: fc.constantFrom(0, 700),
  }),
  // A holder renews with the lease length it claimed with, so renewals never shorten a lease
  // (the memory model's lease-expiry bound relies on that): renew with the longest.
  fc.record({ op: fc.constant('heartbeat' as const), picks: fc.array(fc.nat(), { maxLength: 3 }), leaseMs: fc.constant(5000) }),
  fc.record({ op: fc.constant('stop' as const), pick: fc.nat(), deliverOnFailure: fc.boolean() }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(1, 400, 1200, 6000) }),
);

/** The record without store-specific details: the token becomes "leased or not". */
function normal(record: StoredInvocation | undefined): unknown {
  if (!record) return undefined;
  const r = record as StoredInvocation & Record<string, unknown>;
  return JSON.parse(
    JSON.stringify({
      requestId: r.requestId, functionName: r.functionName, status: r.status, payload: r.payload, attempts: r.attempts,
      createdAt: r.createdAt, scheduledAt: r.scheduledAt, startedAt: r.startedAt, endedAt: r.endedAt, result: r.result,
      error: r.error, condition: r.condition, invocationId: r.invocationId, events: r.events, dueAt: r.dueAt,
      throttles: r.throttles, lostAttempts: r.lostAttempts, interruptedAttempts: r.interruptedAttempts, hops: r.hops, delivery: r.delivery, leased: r.leaseToken !== undefined,
      groupKey: r.groupKey,
    }),
  ) as unknown;
}

function settlement(kind: Extract<Op, { op: 'settle' }>['kind'], requestId: string, leaseToken: string, now: number, delay: number): Settlement {
  const base = { requestId, leaseToken, events: [{ at: now, status: 'Running' as const, attempt: 1, detail: kind }] };
  switch (kind) {
    case 'retry':
      return { ...base, status: 'Retrying', dueAt: now + delay, scheduledAt: now + delay, error: { errorType: 'Error', errorMessage: 'x' } };
    case 'lost':
      return {
        ...base, status: 'Retrying', dueAt: now + delay, scheduledAt: now + delay, lostAttempts: 1 + (delay % 3), interruptedAttempts: delay % 2,
        error: { errorType: 'WorkerLost', errorMessage: 'lost' },
      };
    case 'succeed':
      return { ...base, status: 'Succeeded', dueAt: null, endedAt: now, result: { ok: 1 }, error: null, condition: '' };
    case 'fail':
      return { ...base, status: 'Failed', dueAt: null, endedAt: now, error: { errorType: 'Error', errorMessage: 'y' }, condition: 'UnhandledInvocationError' };
    case 'owe':
      return { ...base, status: 'Succeeded', dueAt: now + delay, endedAt: now, condition: '', delivery: { target: 'onSuccess', status: 'Pending', attempts: 0, since: now } };
    case 'delivered':
      // Normally sent for an already-final record; endedAt keeps a final record well-formed when it is not.
      return { ...base, status: 'Succeeded', events: [], dueAt: null, endedAt: now, delivery: null };
    case 'stopped':
      return { ...base, status: 'Stopped', dueAt: null, endedAt: now, condition: 'Stopped' };
  }
}

/** Per function, the limits every claim passes (a function may have none). */
type LimitsOf = Partial<Record<(typeof FUNCTIONS)[number], FunctionLimits>>;

const limitsArb: fc.Arbitrary<FunctionLimits> = fc
  .record({
    concurrency: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    perSecond: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    grouped: fc.boolean(),
    groupConcurrency: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }),
  })
  .map(({ concurrency, perSecond, grouped, groupConcurrency }) => ({
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(perSecond === undefined ? {} : { perSecond }),
    ...(grouped ? { grouped: true, ...(groupConcurrency === undefined ? {} : { groupConcurrency }) } : {}),
  }));

async function check(ops: Op[], real: Store, limits: LimitsOf = {}): Promise<void> {
  const model = memoryStore();
  const stores: [Store, Store] = [model, real];
  const tokens: [Map<string, string>, Map<string, string>] = [new Map(), new Map()];
  const ids: string[] = [];
  let now = T0;
  let seq = 0;
  const both = async <T>(f: (store: Store, i: 0 | 1) => Promise<T>): Promise<[T, T]> => [await f(model, 0), await f(real, 1)];
  try {
    for (const [step, op] of ops.entries()) {
      const where = `step ${step} ${JSON.stringify(op)}`;
      switch (op.op) {
        case 'enqueue': {
          const requestId = `r${String(seq++).padStart(4, '0')}`;
          const payload = { v: op.variant };
          const functionName = FUNCTIONS[op.fn];
          const item = {
            requestId, functionName, payload, createdAt: now, scheduledAt: now + op.delay, hops: 0,
            ...(op.id === null ? {} : { invocationId: `id${op.id}`, payloadKey: JSON.stringify(payload) }),
            ...(limits[functionName]?.grouped ? { groupKey: `g${op.group}` } : {}),
          };
          const [m, r] = await both((s) => s.enqueue([item]));
          expect(r, where).toEqual(m);
          if (m[0]!.outcome === 'created') ids.push(requestId);
          break;
        }
        case 'claim': {
          const slots = FUNCTIONS.filter((_, i) => op.fns & (1 << i)).map((functionName) => {
            const slot = { functionName, limit: op.slotLimit, maxEventAgeMs: op.maxEventAgeMs };
            const fnLimits = limits[functionName];
            return fnLimits ? { ...slot, limits: fnLimits } : slot;
          });
          const [m, r] = await both(async (s, i) => {
            const result = await s.claim({ now, leaseMs: op.leaseMs, limit: op.limit, slots });
            for (const c of result.items) tokens[i].set(c.record.requestId, c.leaseToken);
            const items = result.items
              .map((c) => ({ kind: c.kind, record: normal(c.record) as { requestId: string } }))
              .sort((x, y) => (x.record.requestId < y.record.requestId ? -1 : 1));
            const heldBack = [...(result.heldBack ?? [])].sort((x, y) => (x.functionName < y.functionName ? -1 : 1));
            return { items, nextDueAt: result.nextDueAt, heldBack };
          });
          expect(r.items, where).toEqual(m.items);
          expect(r.heldBack, `${where}: heldBack`).toEqual(m.heldBack);
          // nextDueAt: SQLite reports the exact earliest dueAt left; the memory model may report
          // an earlier, stale lease expiry (a lower bound: a worker just wakes early).
          const names = new Set<string>(slots.map((x) => x.functionName));
          const dues = (await real.list({ limit: 1000 })).items.filter((x) => names.has(x.functionName) && x.dueAt !== undefined).map((x) => x.dueAt!);
          const earliest = dues.length ? Math.min(...dues) : undefined;
          expect(r.nextDueAt, `${where}: nextDueAt`).toBe(earliest);
          expect(m.nextDueAt ?? Infinity, `${where}: model nextDueAt`).toBeLessThanOrEqual(earliest ?? Infinity);
          break;
        }
        case 'settle': {
          if (ids.length === 0) break;
          const requestId = ids[op.pick % ids.length]!;
          const [m, r] = await both((s, i) =>
            s.settle([{ ...settlement(op.kind, requestId, op.rightToken ? (tokens[i].get(requestId) ?? 'none') : 'bogus', now, op.delay), wake: true }]),
          );
          expect(r, where).toEqual(m);
          break;
        }
        case 'heartbeat': {
          if (ids.length === 0) break;
          const picked = [...new Set(op.picks.map((p) => ids[p % ids.length]!))];
          const [m, r] = await both(async (s, i) => {
            const result = await s.heartbeat({ now, leaseMs: op.leaseMs, leases: picked.map((requestId) => ({ requestId, leaseToken: tokens[i].get(requestId) ?? 'none' })) });
            return { lost: result.lost.sort(), stopping: result.stopping.sort() };
          });
          expect(r, where).toEqual(m);
          break;
        }
        case 'stop': {
          const requestId = ids.length ? ids[op.pick % ids.length]! : 'missing';
          const [m, r] = await both(async (s) => {
            const result = await s.requestStop({ requestId, now, deliverOnFailure: op.deliverOnFailure });
            return { outcome: result.outcome, record: normal(result.record) };
          });
          expect(r, where).toEqual(m);
          break;
        }
        case 'advance':
          now += op.ms;
          break;
      }
      const [ml, rl] = await both(async (s) => (await s.list({ limit: 1000 })).items.map(normal));
      expect(rl, `${where}: list`).toEqual(ml);
      // list shows every record; get is checked for the newest one (one round trip, not one per id).
      const latest = ids.at(-1);
      if (latest !== undefined) {
        const [mg, rg] = await both(async (s) => normal(await s.get(latest)));
        expect(rg, `${where}: get ${latest}`).toEqual(mg);
      }
      const [ms, rs] = await both((s) => s.stats());
      expect(rs, `${where}: stats`).toEqual(ms);
    }
  } finally {
    await model.close();
  }
}


export function modelCases({ open, reset }: SuiteContext): void {
  describe('model', () => {
    it('agrees with the memory model on random operation sequences', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 30 }), async (ops) => {
          await reset();
          await check(ops, await open());
        }),
        { numRuns: 40 },
      );
    }, 120_000);

    it('agrees with the memory model with function limits (concurrency, perSecond, groups)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(opArb, { minLength: 5, maxLength: 40 }),
          limitsArb,
          fc.option(limitsArb, { nil: undefined }),
          async (ops, a, b) => {
            await reset();
            await check(ops, await open(), b === undefined ? { a } : { a, b });
          },
        ),
        { numRuns: 40 },
      );
    }, 120_000);
  });
}
