/**
 * Execution-log rules every store applies the same way: how a line is measured against the
 * byte bound, and which lines a bounded log drops (the oldest).
 */
import type { LogLine } from './contract.js';

/** A line's size for the byte bound: its message and its data as JSON, in UTF-8 bytes. */
export function logLineBytes(line: Pick<LogLine, 'message' | 'data'>): number {
  return Buffer.byteLength(line.message) + (line.data === undefined ? 0 : Buffer.byteLength(JSON.stringify(line.data)));
}

/**
 * How many of `sizes` (a log's line sizes, oldest first) must go, oldest first, for the rest to
 * fit in `maxLines` lines and `maxBytes` bytes.
 */
export function linesToDrop(sizes: readonly number[], maxLines: number, maxBytes: number): number {
  let keep = 0;
  let bytes = 0;
  for (let i = sizes.length - 1; i >= 0 && keep < maxLines; i--) {
    if (bytes + sizes[i]! > maxBytes) break;
    bytes += sizes[i]!;
    keep++;
  }
  return sizes.length - keep;
}
