/**
 * Reading an invocation's execution log: every line after a cursor, page by page, and tailing
 * it until the invocation is final. Lines are written in batches, the last ones as the attempt
 * ends, possibly just after the final status: so tailing stops only at a read that finds
 * nothing new, made a full poll interval after the final status was seen.
 */
import type { InvocationLogLine } from '../invocation-logs.js';
import type { Invoker } from '../invoker.js';
import { isFinalStatus } from '../types.js';

/** How often `logs --follow` polls the store. */
export const FOLLOW_INTERVAL_MS = 500;

type Print = (line: InvocationLogLine) => void;

/** Prints every line after `after`; returns the new cursor. */
export async function readAll(invoker: Invoker, requestId: string, after: number, print: Print): Promise<number> {
  let cursor = after;
  for (;;) {
    const page = await invoker.getInvocationLogs(requestId, { after: cursor });
    for (const line of page.lines) print(line);
    if (page.nextCursor === cursor || page.lines.length === 0) return cursor;
    cursor = page.nextCursor;
  }
}

/** Tails the log until the invocation is final and its last lines are printed ('final'), or `signal` aborts ('interrupted'). */
export async function follow(invoker: Invoker, requestId: string, after: number, print: Print, signal: AbortSignal): Promise<'final' | 'interrupted'> {
  let cursor = after;
  let finalSeen = false;
  while (!signal.aborted) {
    // Status first, lines second: every line written before the status was read is printed below.
    const record = await invoker.getInvocation(requestId);
    const before = cursor;
    cursor = await readAll(invoker, requestId, cursor, print);
    if (finalSeen && cursor === before) return 'final';
    if (record && isFinalStatus(record.status)) finalSeen = true;
    if (!(await pause(FOLLOW_INTERVAL_MS, signal))) break;
  }
  return 'interrupted';
}

/** Waits `ms`; false if `signal` aborted first. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (finished: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(finished);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener('abort', onAbort);
  });
}
