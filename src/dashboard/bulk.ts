/**
 * Bulk Stop / Re-run of what a filter matches. The page first asks how many match (the
 * confirmation says it), then sends the same filter with that count as `max` and the preview's
 * `until`, so the action reaches neither invocations created since nor more than were confirmed.
 */
import { InvocationNotFinalError, InvocationNotFoundError } from '../errors.js';
import type { Invoker } from '../invoker.js';
import { listOptions, RERUNNABLE, STOPPABLE } from './invocations.js';
import { statusesFor, type BulkAction, type Filter } from './query.js';

export interface BulkPreview {
  readonly action: BulkAction;
  /** Matching invocations the action applies to, at most `maxBulk`. */
  readonly count: number;
  /** More match than `maxBulk`: the action would take the newest `count`. */
  readonly capped: boolean;
  /** Pass back with the action: invocations created from now on are left alone. */
  readonly until: number;
}

export interface BulkResult {
  readonly action: BulkAction;
  /** Matching invocations found (at most `max`). */
  readonly matched: number;
  /** Stopped (or asked to stop) / re-run. */
  readonly done: number;
  /** Finished or gone meanwhile, so there was nothing to do. */
  readonly skipped: number;
  /** Failed for another reason (reported on the invoker's `error` event). */
  readonly failed: number;
}

const PAGE = 1000;
const PARALLEL = 8;

function applicable(action: BulkAction) {
  return action === 'stop' ? STOPPABLE : RERUNNABLE;
}

/** Request ids of the invocations `action` applies to under `filter`, newest first, at most `max`. */
async function matching(invoker: Invoker, filter: Filter, action: BulkAction, max: number): Promise<{ ids: string[]; more: boolean }> {
  const statuses = statusesFor(filter.status, applicable(action));
  if (statuses.length === 0) return { ids: [], more: false };
  if (filter.requestId !== undefined) {
    const record = await invoker.getInvocation(filter.requestId);
    const ok = record !== undefined && statuses.includes(record.status) && (filter.functionName === undefined || record.functionName === filter.functionName);
    return { ids: ok ? [record.requestId] : [], more: false };
  }
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await invoker.listInvocations(listOptions(filter, { statuses, limit: PAGE, ...(cursor ? { cursor } : {}) }));
    for (const item of page.items) {
      if (ids.length === max) return { ids, more: true };
      ids.push(item.requestId);
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return { ids, more: false };
}

export async function previewBulk(invoker: Invoker, filter: Filter, action: BulkAction, maxBulk: number): Promise<BulkPreview> {
  const until = Math.min(filter.until ?? Infinity, invoker.clock.now() + 1);
  const { ids, more } = await matching(invoker, { ...filter, until }, action, maxBulk);
  return { action, count: ids.length, capped: more, until };
}

export async function runBulk(
  invoker: Invoker,
  filter: Filter,
  action: BulkAction,
  max: number,
  report: (error: unknown) => void,
): Promise<BulkResult> {
  const { ids } = await matching(invoker, filter, action, max);
  let done = 0;
  let skipped = 0;
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const requestId = ids[next++]!;
      try {
        if (action === 'stop') {
          const { status } = await invoker.stopInvocation(requestId);
          if (status === 'Stopped' || status === 'Stopping') done++;
          else skipped++;
        } else {
          await invoker.rerunInvocation(requestId);
          done++;
        }
      } catch (error) {
        if (error instanceof InvocationNotFoundError || error instanceof InvocationNotFinalError) skipped++;
        else {
          failed++;
          report(error);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, ids.length) }, worker));
  return { action, matched: ids.length, done, skipped, failed };
}
