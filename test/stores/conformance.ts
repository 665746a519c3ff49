/**
 * The store conformance suite: every clause of `src/stores/contract.ts`, run against every store.
 *
 * Usage (a store's test file is a few lines):
 *
 *   testStore({ name: 'sqlite', create: (o) => sqliteStore({ path, ...o }), cleanup: () => { path = fresh() } });
 *
 * - `create(options)` is called once or more per test. Stores created in the same test must
 *   share state when `shared` is true (two instances = two processes on one database); the
 *   concurrency cases then run across two instances.
 * - After each test the suite closes every store it created, then calls `cleanup()`, which must
 *   leave the next test an empty store (a fresh file, a flushed key prefix, a dropped schema).
 * - Time is driven by explicit `now` values: stores never read a clock.
 */
import { afterEach, describe } from 'vitest';
import type { Store } from '../../src/stores/contract.js';
import type { StoreFactoryOptions, SuiteContext } from './conformance-helpers.js';
import { leaseCases } from './conformance-leases.js';
import { queryCases } from './conformance-queries.js';
import { behaviourCases } from './conformance-behaviour.js';
import { logCases } from './conformance-logs.js';
import { activityCases } from './conformance-activity.js';
import { limitCases } from './conformance-limits.js';
import { modelCases } from './conformance-model.js';

export * from './conformance-helpers.js';

export interface StoreSuite {
  readonly name: string;
  readonly create: (options?: StoreFactoryOptions) => Promise<Store> | Store;
  /** Called after each test, once its stores are closed: give the next test an empty store. */
  readonly cleanup?: () => Promise<void> | void;
  /** True when stores created in one test share state (two processes on one database). */
  readonly shared?: boolean;
  /** The store's own cases, defined inside the suite's `describe`. */
  readonly extra?: (ctx: SuiteContext) => void;
  /** See SuiteContext.unreachable. */
  readonly unreachable?: () => Store;
  /** True for the memory store: it is the model the others are compared with, not compared with itself. */
  readonly isModel?: boolean;
}

export function testStore(suite: StoreSuite): void {
  describe(`store conformance: ${suite.name}`, () => {
    const opened: Store[] = [];
    const open = async (options?: StoreFactoryOptions): Promise<Store> => {
      const store = await suite.create(options);
      opened.push(store);
      return store;
    };
    const reset = async (): Promise<void> => {
      const stores = opened.splice(0);
      for (const store of stores) await store.close();
      await suite.cleanup?.();
    };
    const ctx: SuiteContext = {
      open,
      async pair() {
        const a = await open();
        return [a, suite.shared ? await open() : a];
      },
      reset,
      ...(suite.unreachable ? { unreachable: suite.unreachable } : {}),
    };

    afterEach(reset);

    leaseCases(ctx);
    queryCases(ctx);
    behaviourCases(ctx);
    logCases(ctx);
    activityCases(ctx);
    limitCases(ctx);
    if (!suite.isModel) modelCases(ctx);
    suite.extra?.(ctx);
  });
}
