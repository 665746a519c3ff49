/**
 * The invoker a command works through: producer-only (concurrency 0), so it runs no handler,
 * announces no worker and needs no function registered; it only knows the store.
 */
import { createInvoker, type Invoker } from '../invoker.js';
import type { Io } from './io.js';
import { openStore } from './open-store.js';
import { parseStoreUrl } from './store-url.js';

export interface Session {
  readonly invoker: Invoker;
  /** Closes the invoker and the store; never throws (a store that failed to open may fail to close). */
  close(): Promise<void>;
}

/** `verbose`: where to print the store's background errors; silent without it. */
export async function openSession(storeUrl: string | undefined, timeoutMs: number, verbose: Io | undefined): Promise<Session> {
  const target = parseStoreUrl(storeUrl);
  const store = await openStore(target, timeoutMs);
  const invoker = createInvoker({ store, concurrency: 0 });
  // Background failures (the queue watchdog, the store's own work) surface through the command's
  // own calls; they are printed only with --verbose. Warnings about unserved functions are what
  // `stats` reports, not something to print twice.
  invoker.on('error', ({ error, during }) => verbose?.err(`async-invoker: background ${during}: ${error instanceof Error ? error.message : String(error)}`));
  invoker.on('warning', () => {});
  return {
    invoker,
    async close() {
      await invoker.close().catch((error: unknown) => verbose?.err(`async-invoker: closing the store: ${error instanceof Error ? error.message : String(error)}`));
    },
  };
}
