/** The execution log as `getInvocationLogs` returns it: stored lines, a marker where lines were dropped, a cursor. */
import type { LogLine, LogPage } from './stores/contract.js';

/** One line of an execution log. A `dropped` marker line (seq 0) stands for lines dropped to stay within the bounds. */
export interface InvocationLogLine extends LogLine {
  /** Only on a marker line: how many lines were dropped where it stands. */
  readonly dropped?: number;
}

export interface InvocationLogPage {
  /** Oldest first. */
  readonly lines: InvocationLogLine[];
  /** Pass as `after` to get the lines written since (tailing); it is the last line's seq, or the given `after`. */
  readonly nextCursor: number;
  /** Lines dropped so far (oldest first) to keep the log within its bounds. */
  readonly dropped: number;
}

export function logPage(page: LogPage, after: number): InvocationLogPage {
  const first = page.lines[0];
  const last = page.lines[page.lines.length - 1];
  const lines: InvocationLogLine[] = [];
  // A gap between the cursor and the first line kept: those lines were dropped.
  const gap = first ? first.seq - after - 1 : 0;
  if (first && gap > 0) {
    lines.push({
      seq: 0,
      at: first.at,
      attempt: first.attempt,
      level: 'warn',
      message: `${gap} earlier line${gap === 1 ? ' was' : 's were'} dropped to keep the log within its bounds (logs.maxLines, logs.maxBytes)`,
      dropped: gap,
    });
  }
  for (const line of page.lines) lines.push(line);
  return { lines, nextCursor: last ? last.seq : after, dropped: page.dropped };
}
