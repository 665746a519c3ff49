/** Reads over the indexes (list, stats) and the retention pass. */
import type { Redis } from 'ioredis';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { decodeRecord } from './codec.js';
import type { Keys } from './keys.js';
import { runSteps, type Step } from './scripts.js';
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
export async function listInvocations(client: Redis, keys: Keys, query: ListQuery): Promise<ListPage> {
  const index = query.functionName === undefined ? keys.created : keys.index(query.functionName)[4]!;
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  let max = query.until === undefined ? '+inf' : `(${query.until}`;
  if (after && (query.until === undefined || after.createdAt < query.until)) max = String(after.createdAt);
  const min = query.since === undefined ? '-inf' : String(query.since);
  const statuses = query.statuses ? new Set(query.statuses) : undefined;
  const matches: StoredInvocation[] = [];
  const chunk = Math.min(1000, query.limit + 1);
  for (let offset = 0; matches.length <= query.limit; offset += chunk) {
    const flat = await client.zrevrangebyscore(index, max, min, 'WITHSCORES', 'LIMIT', offset, chunk);
    const ids = pairs(flat)
      .filter(([rid, at]) => !after || at < after.createdAt || rid < after.requestId)
      .map(([rid]) => rid);
    const records = await readRecords(client, keys, ids, query.functionName);
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

async function readRecords(client: Redis, keys: Keys, ids: readonly string[], functionName: string | undefined) {
  if (ids.length === 0) return [];
  const fns = functionName === undefined ? await client.hmget(keys.functionOf, ...ids) : ids.map(() => functionName);
  const steps: Step[] = [];
  const known: [string, string][] = [];
  ids.forEach((rid, i) => {
    const fn = fns[i];
    if (fn == null) return; // a global entry whose record was never written
    known.push([rid, fn]);
    steps.push({ command: 'hgetall', args: [keys.record(fn, rid)] });
  });
  const replies = await runSteps(client, steps);
  return known.map(([, fn], i) => {
    // ioredis turns an HGETALL reply into an object, also inside a pipeline.
    return decodeRecord(fn, new Map(Object.entries(replies[i] as Record<string, string>)));
  });
}

export async function queueStats(client: Redis, keys: Keys, functionNames?: readonly string[]): Promise<QueueStats> {
  const names = functionNames ?? (await client.smembers(keys.functions));
  const steps: Step[] = names.flatMap((fn) => {
    const [, pending, running] = keys.index(fn);
    return [
      { command: 'zcard', args: [pending!] },
      { command: 'scard', args: [running!] },
      { command: 'zrange', args: [pending!, 0, 0, 'WITHSCORES'] },
    ];
  });
  const replies = await runSteps(client, steps);
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

/** Removes finished records past the age limit, then the oldest ones over the count limit. */
export async function pruneFinished(client: Redis, keys: Keys, retention: Retention, now: number): Promise<number> {
  const names = await client.smembers(keys.functions);
  let removed = 0;
  const cutoff = now - retention.maxAgeMs;
  for (const fn of names) {
    const done = keys.index(fn)[3]!;
    for (;;) {
      const ids = await client.zrangebyscore(done, '-inf', `(${cutoff}`, 'LIMIT', 0, PRUNE_CHUNK);
      const n = await pruneIds(client, keys, fn, ids);
      removed += n;
      if (ids.length < PRUNE_CHUNK || n === 0) break;
    }
  }
  const counts = await runSteps(client, names.map((fn) => ({ command: 'zcard', args: [keys.index(fn)[3]!] })));
  const total = counts.reduce<number>((sum, c) => sum + Number(c), 0);
  let excess = total - retention.maxCount;
  while (excess > 0) {
    const take = Math.min(excess, PRUNE_CHUNK);
    // The oldest `take` of each function hold the oldest `take` overall.
    const heads = await runSteps(client, names.map((fn) => ({ command: 'zrange', args: [keys.index(fn)[3]!, 0, take - 1, 'WITHSCORES'] })));
    const oldest = names
      .flatMap((fn, i) => pairs(heads[i] as string[]).map(([rid, at]) => ({ fn, rid, at })))
      .sort((a, b) => a.at - b.at)
      .slice(0, take);
    let n = 0;
    for (const fn of new Set(oldest.map((o) => o.fn))) {
      n += await pruneIds(client, keys, fn, oldest.filter((o) => o.fn === fn).map((o) => o.rid));
    }
    removed += n;
    excess -= n;
    if (n === 0) break;
  }
  return removed;
}

async function pruneIds(client: Redis, keys: Keys, fn: string, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  // The idempotency key is named by the invocationId, which only the record holds.
  const iids = await runSteps(client, ids.map((rid) => ({ command: 'hget', args: [keys.record(fn, rid), 'invocationId'] })));
  const scriptKeys = keys.index(fn);
  ids.forEach((rid, i) => scriptKeys.push(keys.record(fn, rid), keys.idempotency(fn, (iids[i] as string | null) ?? undefined)));
  const [reply] = await runSteps(client, [{ script: 'prune', keys: scriptKeys, args: ids }]);
  const gone = reply as string[];
  if (gone.length) {
    await runSteps(client, [
      { command: 'hdel', args: [keys.functionOf, ...gone] },
      { command: 'zrem', args: [keys.created, ...gone] },
    ]);
  }
  return gone.length;
}
