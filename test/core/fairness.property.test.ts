/**
 * Scheduling fairness, as a property: for random mixes of functions, per-function caps,
 * invoker concurrency, delays and failing attempts, driven by a fake clock, every invocation
 * reaches its final state, no cap is ever exceeded, and the run never stalls: whenever the
 * invoker is idle, nothing it could run is due.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createInvoker, fakeClock, memoryStore, type Store } from '../../src/index.js';
import { sqliteStore } from '../../src/stores/sqlite/index.js';

const dir = mkdtempSync(join(tmpdir(), 'async-invoker-fairness-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

interface Scenario {
  readonly concurrency: number;
  readonly caps: readonly (number | null)[];
  readonly invocations: readonly { fn: number; delaySeconds: number; fails: number; turns: number }[];
}

const MAX_RETRIES = 3;

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    concurrency: fc.integer({ min: 1, max: 6 }),
    caps: fc.array(fc.option(fc.integer({ min: 1, max: 3 })), { minLength: 1, maxLength: 4 }),
  })
  .chain(({ concurrency, caps }) =>
    fc.record({
      concurrency: fc.constant(concurrency),
      caps: fc.constant(caps),
      invocations: fc.array(
        fc.record({
          fn: fc.integer({ min: 0, max: caps.length - 1 }),
          delaySeconds: fc.constantFrom(0, 0, 0, 1, 5),
          // More than MAX_RETRIES + 1 failures ends Failed.
          fails: fc.constantFrom(0, 0, 1, 2, MAX_RETRIES + 1),
          turns: fc.integer({ min: 0, max: 3 }),
        }),
        { minLength: 1, maxLength: 40 },
      ),
    }),
  );

const FINAL = new Set(['Succeeded', 'Failed']);

async function run(scenario: Scenario, store: Store): Promise<void> {
  const clock = fakeClock();
  const invoker = createInvoker({ store, clock, concurrency: scenario.concurrency });
  const running = scenario.caps.map(() => 0);
  let total = 0;
  const violations: string[] = [];
  scenario.caps.forEach((cap, i) => {
    invoker.register(
      `f${i}`,
      async (payload: { fails: number; turns: number }, ctx) => {
        running[i]!++;
        total++;
        if (cap !== null && running[i]! > cap) violations.push(`f${i} ran ${running[i]} at once (cap ${cap})`);
        if (total > scenario.concurrency) violations.push(`${total} at once (concurrency ${scenario.concurrency})`);
        for (let t = 0; t < payload.turns; t++) await new Promise((resolve) => setImmediate(resolve));
        running[i]!--;
        total--;
        if (ctx.attempt <= payload.fails) throw new Error(`attempt ${ctx.attempt} fails`);
        return null;
      },
      {
        ...(cap === null ? {} : { concurrency: cap }),
        maxAsyncRetryAttempts: MAX_RETRIES,
        retryBackoff: { initialDelayMs: 100, multiplier: 2, jitter: 'none' },
      },
    );
  });
  try {
    const ids = await Promise.all(
      scenario.invocations.map((inv) =>
        invoker
          .invokeAsync(`f${inv.fn}`, { fails: inv.fails, turns: inv.turns }, { delaySeconds: inv.delaySeconds })
          .then((r) => r.requestId),
      ),
    );
    for (let step = 0; ; step++) {
      expect(step, 'steps of the fake clock').toBeLessThan(200);
      await invoker.idle();
      const records = await Promise.all(ids.map(async (id) => (await invoker.getInvocation(id))!));
      const open = records.filter((r) => !FINAL.has(r.status));
      if (open.length === 0) break;
      const now = clock.now();
      // Idle means nothing runnable is due: anything open must be waiting for a later time.
      const stalled = open.filter((r) => r.status === 'Running' || r.scheduledAt <= now);
      expect(stalled.map((r) => `${r.functionName} ${r.status} due ${r.scheduledAt - now} ms ago`), 'stalled while idle').toEqual([]);
      await clock.setTime(Math.min(...open.map((r) => r.scheduledAt)));
    }
    expect(violations).toEqual([]);
    const records = await Promise.all(ids.map(async (id) => (await invoker.getInvocation(id))!));
    records.forEach((r, i) => {
      const expected = scenario.invocations[i]!.fails > MAX_RETRIES ? 'Failed' : 'Succeeded';
      expect(r.status, `invocation ${i}`).toBe(expected);
    });
  } finally {
    await invoker.close();
  }
}

describe('fairness (property)', () => {
  it('memory store: every invocation ends, no cap is exceeded, idle never hides due work', async () => {
    await fc.assert(fc.asyncProperty(scenarioArb, (scenario) => run(scenario, memoryStore())), { numRuns: 300 });
  }, 120_000);

  it('sqlite store: the same', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, (scenario) => run(scenario, sqliteStore({ path: join(dir, `f-${files++}.db`) }))),
      { numRuns: 25 },
    );
  }, 120_000);
});
