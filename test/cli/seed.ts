/**
 * What the command tests read: invocations made through the library, in every state the
 * commands show. Two hours ago (a fake clock): three `report` invocations no worker runs. Now:
 * `ok` twice (Succeeded, with log lines), `bad` once (Failed), and `later` (Enqueued for ten minutes).
 */
import { createInvoker, type Invoker } from '../../src/invoker.js';
import { fakeClock } from '../../src/fake-clock.js';
import type { Store } from '../../src/stores/contract.js';
import { waitForStatus } from '../helpers.js';

export const TWO_HOURS_MS = 2 * 3_600_000;

export interface Seeded {
  readonly reports: string[];
  readonly ok: string[];
  readonly bad: string;
  readonly later: string;
  /** Every invocation above was created before this (epoch ms): `--until` it leaves out what tests add. */
  readonly until: number;
}

/** A producer invoker (runs nothing) that may enqueue `names`. */
export function producer(store: Store, names: readonly string[] = []): Invoker {
  const invoker = createInvoker({ store, concurrency: 0 });
  for (const name of names) invoker.register(name, () => null);
  invoker.on('error', () => {});
  return invoker;
}

export async function seed(store: Store): Promise<Seeded> {
  const past = createInvoker({ store, concurrency: 0, clock: fakeClock(Date.now() - TWO_HOURS_MS) });
  const worker = createInvoker({ store, concurrency: 4 });
  const now = createInvoker({ store, concurrency: 0 });
  try {
    past.register('report', () => null);
    const reports: string[] = [];
    for (let i = 1; i <= 3; i++) reports.push((await past.invokeAsync('report', { page: i }, { invocationId: `old_${i}` })).requestId);

    worker.on('error', () => {});
    worker.register('ok', (payload, ctx) => {
      ctx.log.info('working on it', { payload });
      ctx.log.warn('almost done');
      return { done: payload };
    });
    worker.register('bad', () => {
      throw new Error('the upstream said no');
    }, { maxAsyncRetryAttempts: 0 });
    const ok = [
      (await worker.invokeAsync('ok', 1, { invocationId: 'imp_1' })).requestId,
      (await worker.invokeAsync('ok', 2, { invocationId: 'imp_2' })).requestId,
    ];
    const bad = (await worker.invokeAsync('bad', { order: 7 })).requestId;
    for (const requestId of ok) await waitForStatus(worker, requestId, ['Succeeded']);
    await waitForStatus(worker, bad, ['Failed']);

    now.register('later', () => null);
    const later = (await now.invokeAsync('later', { when: 'later' }, { delaySeconds: 600 })).requestId;
    return { reports, ok, bad, later, until: Date.now() + 1 };
  } finally {
    // Closing the worker writes its log lines and activity; the last invoker to close closes the
    // store. All three are closed even if one fails; the first failure is thrown.
    const closed = await Promise.allSettled([worker.close(), past.close(), now.close()]);
    const failed = closed.find((c): c is PromiseRejectedResult => c.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
