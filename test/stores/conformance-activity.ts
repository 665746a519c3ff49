/** Conformance cases for activity counters (the dashboard's charts): they add up across instances. */
import { describe, expect, it } from 'vitest';
import { ACTIVITY_RETENTION_MS, DURATION_BUCKETS_MS, type ActivityEntry } from '../../src/stores/contract.js';
import { T0, type SuiteContext } from './conformance-helpers.js';

const SIZE = DURATION_BUCKETS_MS.length + 1;
const MINUTE = 60_000;

function entry(functionName: string, minute: number, over: Partial<ActivityEntry> = {}): ActivityEntry {
  const wait = new Array<number>(SIZE).fill(0);
  const run = new Array<number>(SIZE).fill(0);
  return { functionName, minute, finished: {}, wait, run, ...over };
}

function histogram(cells: Record<number, number>): number[] {
  const h = new Array<number>(SIZE).fill(0);
  for (const [i, n] of Object.entries(cells)) h[Number(i)] = n;
  return h;
}

export function activityCases({ pair, open }: SuiteContext): void {
  describe('activity', () => {
    it('adds counters of one function and minute from several instances, and reads ranges in order', async () => {
      const [a, b] = await pair();
      const m0 = T0;
      const m1 = T0 + MINUTE;
      await a.recordActivity([
        entry('x', m0, { finished: { Succeeded: 3, Failed: 1 }, wait: histogram({ 0: 2, 3: 1 }), run: histogram({ 5: 4 }) }),
        entry('y', m0, { finished: { Expired: 2 } }),
      ]);
      await b.recordActivity([
        entry('x', m0, { finished: { Succeeded: 2, Invalid: 1 }, wait: histogram({ 3: 5, [SIZE - 1]: 1 }) }),
        entry('x', m1, { finished: { Stopped: 1 }, run: histogram({ 0: 1 }) }),
      ]);
      const all = await a.activity({ since: m0, until: m1 + MINUTE });
      expect(all).toEqual([
        entry('x', m0, { finished: { Succeeded: 5, Failed: 1, Invalid: 1 }, wait: histogram({ 0: 2, 3: 6, [SIZE - 1]: 1 }), run: histogram({ 5: 4 }) }),
        entry('y', m0, { finished: { Expired: 2 } }),
        entry('x', m1, { finished: { Stopped: 1 }, run: histogram({ 0: 1 }) }),
      ]);
      expect((await b.activity({ since: m0, until: m1 + MINUTE, functionName: 'y' })).map((e) => e.functionName)).toEqual(['y']);
      expect((await b.activity({ since: m1, until: m1 + MINUTE })).map((e) => [e.functionName, e.minute])).toEqual([['x', m1]]);
      expect(await b.activity({ since: m1 + MINUTE, until: m1 + 10 * MINUTE })).toEqual([]);
    });

    it('drops activity older than its retention in a retention pass', async () => {
      const store = await open();
      await store.recordActivity([entry('x', T0, { finished: { Succeeded: 1 } }), entry('x', T0 + ACTIVITY_RETENTION_MS, { finished: { Succeeded: 1 } })]);
      await store.prune(T0 + ACTIVITY_RETENTION_MS + MINUTE);
      const left = await store.activity({ since: 0, until: T0 + ACTIVITY_RETENTION_MS * 2 });
      expect(left.map((e) => e.minute)).toEqual([T0 + ACTIVITY_RETENTION_MS]);
    });
  });
}
