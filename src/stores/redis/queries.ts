/** Reads over the indexes (list, stats) and the retention pass. */
import { decodeCursor, encodeCursor } from '../cursor.js';
import { decodeRecord } from './codec.js';
import type { Keys } from './keys.js';
import type { Link } from './link.js';
import type { Step } from './scripts.js';
import type { ListPage, ListQuery, QueueStats, StoredInvocation } from '../contract.js';

export interface Retention {
  readonly maxAgeMs: number;
  readonly maxCount: number;
}

/** Candidates read per prune script call. */
const PRUNE_CHUNK = 500;

/** Pairs of a flat WITHSCORES reply. */
function pairs(flat: readonly string[]): [string, number][] {
  const out: [string, number][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, Number(flat[i + 1])]);
  return out;
}

/**
 * Newest first from the createdAt index (of the function, or the global one), in chunks,
 * filtering statuses as records are read. The cursor bounds the score range, so new work
 * (always newer, or after the cursor in the same millisecond) never shifts later pages.
 */
export async function listInvocations(link: Link, keys: Keys, query: ListQuery): Promise<ListPage> {
  const index = query.functionName === undefined ? keys.created : keys.index(query.functionName)[4]!;
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  let max = query.until === undefined ? '+inf' : `(${query.until}`;
  if (after && (query.until === undefined || after.createdAt < query.until)) max = String(after.createdAt);
  const min = query.since === undefined ? '-inf' : String(query.since);
  const statuses = query.statuses ? new Set(query.statuses) : undefined;
  const matches: StoredInvocation[] = [];
  const chunk = Math.min(1000, query.limit + 1);
  for (let offset = 0; matches.length <= query.limit; offset += chunk) {
    const [reply] = await link.run([{ command: 'zrevrangebyscore', args: [index, max, min, 'WITHSCORES', 'LIMIT', offset, chunk] }]);
    const flat = reply as string[];
    const ids = pairs(flat)
      .filter(([rid, at]) => !after || at < after.createdAt || rid < after.requestId)
      .map(([rid]) => rid);
    const records = await readRecords(link, keys, ids, query.functionName);
    for (const record of records) {
      if (record && (!statuses || statuses.has(record.status))) matches.push(record);
      if (matches.length > query.limit) break;
    }
    if (flat.length < 2 * chunk) break;
  }
  const page = matches.slice(0, query.limit);
  const last = page[page.length - 1];
  return matches.length > query.limit && last ? { items: page, nextCursor: encodeCursor(last) } : { items: page };
}

async function readRecords(link: Link, keys: Keys, ids: readonly string[], functionName: string | undefined) {
  if (ids.length === 0) return [];
  const fns = functionName === undefined
    ? ((await link.run([{ command: 'hmget', args: [keys.functionOf, ...ids] }]))[0] as (string | null)[])
    : ids.map(() => functionName);
  const steps: Step[] = [];
  const known: [string, string][] = [];
  ids.forEach((rid, i) => {
    const fn = fns[i];
    if (fn == null) return; // a global entry whose record was never written
    known.push([rid, fn]);
    steps.push({ command: 'hgetall', args: [keys.record(fn, rid)] });
  });
  const replies = await link.run(steps);
  return known.map(([, fn], i) => {
    // ioredis turns an HGETALL reply into an object, also inside a pipeline.
    return decodeRecord(fn, new Map(Object.entries(replies[i] as Record<string, string>)));
  });
}

export async function queueStats(link: Link, keys: Keys, functionNames?: readonly string[]): Promise<QueueStats> {
  const names = functionNames ?? (await functionsOf(link, keys));
  const steps: Step[] = names.flatMap((fn) => {
    const [, pending, running] = keys.index(fn);
    return [
      { command: 'zcard', args: [pending!] },
      { command: 'scard', args: [running!] },
      { command: 'zrange', args: [pending!, 0, 0, 'WITHSCORES'] },
    ];
  });
  const replies = await link.run(steps);
  const stats: QueueStats = { pending: {}, running: {}, oldestPendingAt: {} };
  names.forEach((fn, i) => {
    const pending = Number(replies[3 * i]);
    const running = Number(replies[3 * i + 1]);
    const oldest = replies[3 * i + 2] as string[];
    if (pending > 0) stats.pending[fn] = pending;
    if (running > 0) stats.running[fn] = running;
    if (oldest.length) stats.oldestPendingAt[fn] = Number(oldest[1]);
  });
  return stats;
}

async function functionsOf(link: Link, keys: Keys): Promise<string[]> {
  return (await link.run([{ command: 'smembers', args: [keys.functions] }]))[0] as string[];
}

/**
 * Removes finished records past the age limit, then the oldest ones over the count limit. Each
 * chunk is removed atomically; `stopped()` ends the pass early between chunks (the store closes).
 */
export async function pruneFinished(link: Link, keys: Keys, retention: Retention, now: number, stopped: () => boolean = () => false): Promise<number> {
  const names = await functionsOf(link, keys);
  let removed = 0;
  const cutoff = now - retention.maxAgeMs;
  for (const fn of names) {
    const index = keys.index(fn)[3]!;
    while (!stopped()) {
      const [reply] = await link.run([{ command: 'zrangebyscore', args: [index, '-inf', `(${cutoff}`, 'LIMIT', 0, PRUNE_CHUNK] }]);
      const ids = reply as string[];
      const n = await pruneIds(link, keys, fn, ids);
      removed += n;
      if (ids.length < PRUNE_CHUNK || n === 0) break;
    }
  }
  if (stopped()) return removed;
  const done = names.map((fn) => keys.index(fn)[3]!);
  const counted = await link.run(done.map((key) => ({ command: 'zcard', args: [key] })));
  let take = Math.min(PRUNE_CHUNK, sum(counted) - retention.maxCount);
  while (take > 0 && !stopped()) {
    // The excess and the ids to remove come from one read (a transaction): a pass running
    // meanwhile in another process then removes the same oldest ids or the next ones, never
    // more than the excess between them, as it would if each pass counted and picked at
    // different moments.
    const replies = await link.atomically([
      ...done.map((key) => ({ command: 'zcard', args: [key] })),
      ...done.map((key) => ({ command: 'zrange', args: [key, 0, take - 1, 'WITHSCORES'] })),
    ]);
    const excess = sum(replies.slice(0, names.length)) - retention.maxCount;
    if (excess <= 0) break;
    // The oldest `take` of each function hold the oldest `take` overall.
    const oldest = names
      .flatMap((fn, i) => pairs(replies[names.length + i] as string[]).map(([rid, at]) => ({ fn, rid, at })))
      .sort((a, b) => a.at - b.at)
      .slice(0, Math.min(excess, take));
    let n = 0;
    for (const fn of new Set(oldest.map((o) => o.fn))) {
      n += await pruneIds(link, keys, fn, oldest.filter((o) => o.fn === fn).map((o) => o.rid));
    }
    removed += n;
    if (n === 0) break;
    take = Math.min(PRUNE_CHUNK, excess - n);
  }
  return removed;
}

function sum(counts: readonly unknown[]): number {
  return counts.reduce<number>((total, c) => total + Number(c), 0);
}

async function pruneIds(link: Link, keys: Keys, fn: string, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  // The idempotency key is named by the invocationId, which only the record holds.
  const iids = await link.run(ids.map((rid) => ({ command: 'hget', args: [keys.record(fn, rid), 'invocationId'] })));
  const scriptKeys = keys.index(fn);
  ids.forEach((rid, i) => scriptKeys.push(keys.record(fn, rid), keys.idempotency(fn, (iids[i] as string | null) ?? undefined)));
  const [reply] = await link.run([{ script: 'prune', keys: scriptKeys, args: ids }]);
  const gone = reply as string[];
  if (gone.length) {
    await link.run([
      { command: 'hdel', args: [keys.functionOf, ...gone] },
      { command: 'zrem', args: [keys.created, ...gone] },
    ]);
  }
  return gone.length;
}
