/** Reads over the indexes (list, stats) and the retention pass. */
import { decodeCursor, encodeCursor, listsBefore } from '../cursor.js';
import { decodeRecord } from './codec.js';
import { CreatedIndexes } from './created-index.js';
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
 * Newest first from the createdAt index of the function, or of every function merged, in
 * chunks, filtering statuses as records are read. The cursor bounds the score range, so new work
 * (always newer, or after the cursor in the same millisecond) never shifts later pages.
 */
export async function listInvocations(link: Link, keys: Keys, query: ListQuery): Promise<ListPage> {
  if (query.invocationIdPrefix !== undefined) return listByPrefix(link, keys, query);
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  let max = query.until === undefined ? '+inf' : `(${query.until}`;
  if (after && (query.until === undefined || after.createdAt < query.until)) max = String(after.createdAt);
  const min = query.since === undefined ? '-inf' : String(query.since);
  const statuses = query.statuses ? new Set(query.statuses) : undefined;
  const chunk = Math.min(1000, query.limit + 1);
  const names = query.functionName === undefined ? await functionsOf(link, keys) : [query.functionName];
  const index = new CreatedIndexes(link, keys, names, { max, min, after, chunk });
  const matches: StoredInvocation[] = [];
  while (matches.length <= query.limit) {
    const entries = await index.next(chunk);
    if (entries.length === 0) break;
    const records = await readRecordsOf(link, keys, entries);
    for (const record of records) {
      if (record && (!statuses || statuses.has(record.status))) matches.push(record);
      if (matches.length > query.limit) break;
    }
  }
  const page = matches.slice(0, query.limit);
  const last = page[page.length - 1];
  return matches.length > query.limit && last ? { items: page, nextCursor: encodeCursor(last) } : { items: page };
}

/** Members of an invocationId index read per call: the next call goes on past the last one. */
const PREFIX_CHUNK = 1000;

interface Indexed {
  readonly fn: string;
  readonly createdAt: number;
  readonly requestId: string;
}

/**
 * The invocations of `names` whose invocationId starts with `prefix` (literally: a lex range
 * has no wildcards), with their createdAt, read from each function's invocationId index: its
 * members are `invocationId \0 createdAt \0 requestId`, so a range read in pages names them
 * all without reading a record. All functions are read in one round trip per page.
 */
async function prefixMatches(link: Link, keys: Keys, names: readonly string[], prefix: string): Promise<Indexed[]> {
  // Every member starting with `prefix` sorts before `prefix` + 0xff: no UTF-8 text holds that byte.
  const max = Buffer.concat([Buffer.from(`(${prefix}`), Buffer.from([0xff])]);
  let pending = names.map((fn) => ({ fn, min: `[${prefix}` }));
  const found: Indexed[] = [];
  while (pending.length > 0) {
    const replies = await link.run(pending.map(({ fn, min }) => ({
      command: 'zrangebylex', args: [keys.invocationIds(fn), min, max, 'LIMIT', 0, PREFIX_CHUNK],
    })));
    const next: { fn: string; min: string }[] = [];
    pending.forEach(({ fn }, i) => {
      const members = replies[i] as string[];
      for (const member of members) {
        const a = member.indexOf('\0');
        const b = member.indexOf('\0', a + 1);
        if (a < 0 || b < 0) continue; // not written by this store
        found.push({ fn, createdAt: Number(member.slice(a + 1, b)), requestId: member.slice(b + 1) });
      }
      if (members.length === PREFIX_CHUNK) next.push({ fn, min: `(${members[members.length - 1]!}` });
    });
    pending = next;
  }
  return found;
}

/**
 * Listing by invocationId prefix: the matches come from the invocationId indexes (of the
 * function, or of every function), are filtered by creation time and cursor and ordered as
 * every listing is (createdAt, then requestId, descending); records are read in that order
 * only until the page is full, filtering statuses as they come.
 */
async function listByPrefix(link: Link, keys: Keys, query: ListQuery): Promise<ListPage> {
  const prefix = query.invocationIdPrefix!;
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const names = query.functionName === undefined ? await functionsOf(link, keys) : [query.functionName];
  const candidates = (await prefixMatches(link, keys, names, prefix))
    .filter((e) =>
      (query.since === undefined || e.createdAt >= query.since) &&
      (query.until === undefined || e.createdAt < query.until) &&
      (!after || listsBefore(after, e)))
    .sort((a, b) => (listsBefore(a, b) ? -1 : listsBefore(b, a) ? 1 : 0));
  const statuses = query.statuses ? new Set(query.statuses) : undefined;
  const matches: StoredInvocation[] = [];
  const chunk = Math.min(1000, query.limit + 1);
  for (let offset = 0; offset < candidates.length && matches.length <= query.limit; offset += chunk) {
    const records = await readRecordsOf(link, keys, candidates.slice(offset, offset + chunk));
    for (const record of records) {
      if (record && (!statuses || statuses.has(record.status))) matches.push(record);
      if (matches.length > query.limit) break;
    }
  }
  const page = matches.slice(0, query.limit);
  const last = page[page.length - 1];
  return matches.length > query.limit && last ? { items: page, nextCursor: encodeCursor(last) } : { items: page };
}

/** The records of `entries` (undefined for one that is gone), in order, in one round trip. */
async function readRecordsOf(link: Link, keys: Keys, entries: readonly { fn: string; requestId: string }[]): Promise<(StoredInvocation | undefined)[]> {
  const replies = await link.run(entries.map(({ fn, requestId }) => ({ command: 'hgetall', args: [keys.record(fn, requestId)] })));
  // ioredis turns an HGETALL reply into an object, also inside a pipeline.
  return entries.map(({ fn }, i) => decodeRecord(fn, new Map(Object.entries(replies[i] as Record<string, string>))));
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

/** The function registry: every function that ever had an invocation (or activity counters). */
export async function functionsOf(link: Link, keys: Keys): Promise<string[]> {
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
  const scriptKeys = [...keys.index(fn), keys.invocationIds(fn)];
  ids.forEach((rid, i) => scriptKeys.push(
    keys.record(fn, rid), keys.idempotency(fn, (iids[i] as string | null) ?? undefined), keys.log(fn, rid),
  ));
  const [reply] = await link.run([{ script: 'prune', keys: scriptKeys, args: ids }]);
  const gone = reply as string[];
  // Entries of the global indexes older versions wrote (keys.ts): gone with their records.
  if (gone.length) {
    await link.run([
      { command: 'hdel', args: [keys.functionOf, ...gone] },
      { command: 'zrem', args: [keys.created, ...gone] },
    ]);
  }
  return gone.length;
}
