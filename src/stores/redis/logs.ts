/**
 * Execution logs. Per invocation a sorted set of lines under its function's hash tag (score =
 * seq, member `seq:bytes:line JSON`), with the log's counters (logSeq, logDropped, logBytes) in
 * the record hash: scripts/append-logs.lua checks the record exists, appends and trims in one
 * step, and prune.lua deletes the log with its record. Sizes are measured here (`logLineBytes`)
 * and passed in, so Lua never parses the JSON.
 */
import type { LogAppend, LogLine, LogPage } from '../contract.js';
import { logLineBytes } from '../logs.js';
import type { Keys } from './keys.js';
import type { Link } from './link.js';
import type { Step } from './scripts.js';

/** A bound as the script reads it: a non-negative integer (no bound past what Lua counts exactly). */
function bound(n: number): number {
  return Number.isFinite(n) ? Math.max(0, Math.floor(n)) : Number.MAX_SAFE_INTEGER;
}

/** The ARGV part of one item of scripts/append-logs.lua. */
function itemArgs(item: LogAppend): (string | number)[] {
  const args: (string | number)[] = [bound(item.maxLines), bound(item.maxBytes), bound(item.dropped ?? 0), item.lines.length];
  for (const line of item.lines) {
    const { at, attempt, level, message, data } = line;
    args.push(logLineBytes(line), JSON.stringify(data === undefined ? { at, attempt, level, message } : { at, attempt, level, message, data }));
  }
  return args;
}

/**
 * Appends each item to its log: one script call per function, all in one round trip. Items
 * whose function is unknown (`fns[i]` undefined: no such invocation) are left out, and the
 * script ignores those whose record is gone.
 */
export async function appendLogs(link: Link, keys: Keys, items: readonly LogAppend[], fns: readonly (string | undefined)[]): Promise<void> {
  const calls = new Map<string, { keys: string[]; args: (string | number)[] }>();
  items.forEach((item, i) => {
    const fn = fns[i];
    if (fn === undefined) return;
    let call = calls.get(fn);
    if (!call) calls.set(fn, (call = { keys: [], args: [] }));
    call.keys.push(keys.record(fn, item.requestId), keys.log(fn, item.requestId));
    for (const arg of itemArgs(item)) call.args.push(arg);
  });
  const steps: Step[] = [...calls.values()].map((call) => ({ script: 'append-logs', keys: call.keys, args: call.args }));
  await link.run(steps);
}

function decodeLine(member: string): LogLine {
  const first = member.indexOf(':');
  const second = member.indexOf(':', first + 1);
  const line = JSON.parse(member.slice(second + 1)) as Omit<LogLine, 'seq'>;
  return { seq: Number(member.slice(0, first)), ...line };
}

/**
 * Lines with seq > `after`, oldest first, at most `limit`, and the dropped count, read in one
 * transaction; undefined when the record does not exist.
 */
export async function readLogs(link: Link, keys: Keys, fn: string, requestId: string, after: number, limit: number): Promise<LogPage | undefined> {
  const count = Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) : -1; // -1: no limit
  const min = Number.isFinite(after) ? `(${after}` : after > 0 ? '+inf' : '-inf';
  const replies = await link.atomically([
    { command: 'hmget', args: [keys.record(fn, requestId), 'status', 'logDropped'] },
    ...(count === 0 ? [] : [{ command: 'zrangebyscore', args: [keys.log(fn, requestId), min, '+inf', 'LIMIT', 0, count] }]),
  ]);
  const [status, dropped] = replies[0] as [string | null, string | null];
  if (status === null) return undefined;
  const members = (replies[1] as string[] | undefined) ?? [];
  return { lines: members.map(decodeLine), dropped: Number(dropped ?? 0) };
}
